"""The data-plane ASGI application: collections over REST and Yjs rooms over WebSocket."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from webhost.data.collections.endpoints import router as collections_router
from webhost.data.fleet.event_endpoints import router as fleet_events_router
from webhost.data.fleet.geofence_endpoints import router as fleet_geofences_router
from webhost.data.fleet.ingest_endpoints import router as fleet_ingest_router
from webhost.data.fleet.live_endpoints import router as fleet_live_router
from webhost.data.fleet.query_endpoints import router as fleet_queries_router
from webhost.data.fleet.settings_endpoints import router as fleet_settings_router
from webhost.data.fleet.spatial_endpoints import router as fleet_spatial_router
from webhost.data.fleet.vehicle_endpoints import router as fleet_vehicles_router
from webhost.data.fleet.webhook_endpoints import router as fleet_webhooks_router
from webhost.data.plane import DataPlane
from webhost.data.sync.endpoints import router as sync_router
from webhost.data.tenancy.management_copy_endpoints import RESTORE_PATH
from webhost.data.tenancy.management_copy_endpoints import router as management_copy_router
from webhost.data.tenancy.management_endpoints import router as management_router
from webhost.data.yjs.endpoints import router as yjs_router
from webhost.http.body_limit import BodySizeLimit
from webhost.http.errors import install_error_handlers

DESCRIPTION = """\
Per-tenant backend. Authenticate with an API key: `Authorization: Bearer whs_live_...`
(or `?token=` on WebSockets). Collections are defined with Dexie schema strings; Yjs documents
sync over the standard y-websocket protocol at `/yjs/{document}`; records sync offline-first through
`/v1/sync` (push, pull, and a live WebSocket), described in docs/sync-protocol.md. Fleet
tracking: vehicles at `/v1/fleet/vehicles`; positions in batches (`/v1/fleet/positions`), over a
WebSocket (`/v1/fleet/stream`) or from OsmAnd / Traccar Client apps (`/v1/fleet/osmand`), with
device keys as well as full ones.
"""


def create_data_app(plane: DataPlane) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await plane.start()
        # what start-up built lives as long as the process: keeping it out of the cyclic
        # collector's full scans keeps their pauses short (they delay every room's updates)
        gc.freeze()
        try:
            yield
        finally:
            await plane.close()

    app = FastAPI(
        title="WebHost data plane",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.plane = plane
    app.add_middleware(
        BodySizeLimit,
        max_bytes=plane.max_body_bytes,
        path_limits={"/v1/fleet/positions": plane.fleet.max_batch_bytes},
        unbuffered=RESTORE_PATH if plane.management_token is not None else None,
    )
    # apps in browsers call the plane from their own origins; an API key, never a cookie,
    # authenticates, so any origin may call and no credentials are allowed
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type"],
        expose_headers=["Retry-After"],
        allow_credentials=False,
        max_age=86400,
    )
    install_error_handlers(app)
    # routes are matched in order, and trackers send far more requests than anyone else
    app.include_router(fleet_ingest_router)
    app.include_router(collections_router)
    app.include_router(sync_router)
    app.include_router(yjs_router)
    app.include_router(fleet_spatial_router)
    app.include_router(fleet_queries_router)
    app.include_router(fleet_geofences_router)
    app.include_router(fleet_events_router)
    app.include_router(fleet_settings_router)
    app.include_router(fleet_live_router)
    app.include_router(fleet_webhooks_router)
    app.include_router(fleet_vehicles_router)
    if plane.management_token is not None:
        app.include_router(management_router)
        app.include_router(management_copy_router)

    @app.get("/health", tags=["health"])
    async def health() -> dict[str, str]:
        status = {"status": "ok"}
        if plane.only_tenant is not None:
            status["tenant"] = str(plane.only_tenant)
        return status

    return app

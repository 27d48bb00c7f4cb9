"""The control-plane ASGI application: JSON API under /api and the dashboard."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from webhost.control.accounts.endpoints import router as accounts_router
from webhost.control.billing.endpoints import router as billing_router
from webhost.control.dashboard.endpoints import router as dashboard_router
from webhost.control.dashboard.fleet_page import router as fleet_page_router
from webhost.control.dashboard.key_endpoints import router as dashboard_keys_router
from webhost.control.dashboard.rendering import STATIC_DIRECTORY
from webhost.control.deployments.endpoints import router as deployments_router
from webhost.control.keys.endpoints import router as keys_router
from webhost.control.plans.endpoints import router as plans_router
from webhost.control.signup.endpoints import router as signup_router
from webhost.http.body_limit import BodySizeLimit
from webhost.http.errors import install_error_handlers
from webhost.platform import Platform

DESCRIPTION = """\
Sign up on a plan, watch the deployment provision, manage API keys. Authenticate with the
session token from `POST /api/login` (`Authorization: Bearer whs_sess_...`).
"""


def create_control_app(platform: Platform) -> FastAPI:
    app = FastAPI(
        title="WebHost control plane",
        version="1",
        description=DESCRIPTION,
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.platform = platform
    app.add_middleware(BodySizeLimit, max_bytes=64 * 1024)
    install_error_handlers(app)
    for router in (
        signup_router,
        accounts_router,
        plans_router,
        billing_router,
        deployments_router,
        keys_router,
        dashboard_router,
        dashboard_keys_router,
        fleet_page_router,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIRECTORY), name="static")

    @app.get("/api/health", tags=["health"])
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app

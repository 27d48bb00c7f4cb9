"""The fleet page: a map of a deployment's vehicles, drawn in the browser from its data plane.

The page is served here; its data comes straight from the deployment's data plane (CORS), with
an API key the user pastes, so the control plane never sees a full key again. Its CSP lets the
page reach that plane (HTTP and WebSocket) and the configured map tiles, nothing else.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, Response

from webhost.control.dashboard import views
from webhost.control.dashboard.auth import BrowserAccountDep
from webhost.control.dashboard.rendering import DashboardRoute, render
from webhost.control.dependencies import PlatformDep, SessionDep
from webhost.errors import Conflict

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def fleet_page_policy(api_url: str, tile_url: str) -> str:
    api = origin_of(api_url)
    socket = api.replace("http", "ws", 1)
    # tile URLs hold {s} subdomain placeholders: allow the scheme and host pattern
    tiles = ""
    if tile_url:
        host = urlsplit(tile_url.replace("{s}", "*")).netloc
        tiles = f" {urlsplit(tile_url).scheme}://{host}"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src 'self' data:{tiles}; connect-src 'self' {api} {socket}; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


@router.get("/dashboard/deployments/{deployment_id}/fleet")
async def fleet_page(
    deployment_id: uuid.UUID,
    request: Request,
    account: BrowserAccountDep,
    session: SessionDep,
    platform: PlatformDep,
) -> Response:
    deployment = await views.deployment_state(session, platform, account, deployment_id)
    if deployment.api_url is None:
        raise Conflict("the deployment is not active yet: its fleet can be seen once it is")
    settings = platform.settings
    tile_url = settings.map_tile_url or ""
    return render(
        request,
        "fleet.html",
        {
            "account": account,
            "deployment": deployment,
            "tile_url": tile_url,
            "tile_attribution": settings.map_tile_attribution or "",
        },
        headers={"Content-Security-Policy": fleet_page_policy(deployment.api_url, tile_url)},
    )

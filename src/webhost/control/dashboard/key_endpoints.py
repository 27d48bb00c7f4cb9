"""Dashboard routes for API keys: create, revoke, replace the device key (htmx or forms)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from pydantic import ValidationError

from webhost.control.accounts import service as accounts
from webhost.control.dashboard import views
from webhost.control.dashboard.auth import BrowserAccountDep, require_csrf
from webhost.control.dashboard.rendering import (
    DashboardRoute,
    is_htmx,
    problem_of,
    redirect,
    render,
)
from webhost.control.dependencies import PlatformDep, SessionDep
from webhost.control.keys import device_keys
from webhost.control.keys import service as keys
from webhost.control.keys.models import KeyScope
from webhost.control.keys.schemas import KeyIn
from webhost.errors import WebHostError

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)

FormText = Annotated[str, Form()]
CsrfChecked = [Depends(require_csrf)]


@router.post("/dashboard/keys", dependencies=CsrfChecked)
async def create_key(
    request: Request,
    account: BrowserAccountDep,
    session: SessionDep,
    platform: PlatformDep,
    name: FormText = "",
    organization_id: FormText = "",
) -> Response:
    """The full key is rendered in this response only; WebHost keeps just its digest."""
    organization = await accounts.resolve_organization(
        session, account, views.parse_organization_id(organization_id)
    )
    try:
        body = KeyIn(name=name)
        key, full_key = await keys.create_key(
            session,
            platform.key_courier,
            platform.secret_box,
            organization=organization,
            created_by=account,
            name=body.name,
        )
    except (ValidationError, WebHostError) as error:
        await session.rollback()
        status_code, message, _ = problem_of(error)
        if is_htmx(request):
            return render(
                request, "partials/form_error.html", {"message": message}, status_code=status_code
            )
        page = await views.organization_page(session, platform, account, organization.id)
        return render(
            request,
            "dashboard.html",
            {"account": account, "page": page, "key_error": message},
            status_code=status_code,
        )
    page = await views.organization_page(session, platform, account, organization.id)
    context = {"account": account, "page": page, "created": key, "full_key": full_key}
    if is_htmx(request):
        return render(request, "partials/key_created.html", context, status_code=201)
    return render(request, "dashboard.html", context, status_code=201)


@router.post("/dashboard/keys/{key_id}/revoke", dependencies=CsrfChecked)
async def revoke_key(
    key_id: uuid.UUID,
    request: Request,
    account: BrowserAccountDep,
    session: SessionDep,
    platform: PlatformDep,
    organization_id: FormText = "",
) -> Response:
    organization = await accounts.resolve_organization(
        session, account, views.parse_organization_id(organization_id)
    )
    key = await keys.revoke_key(
        session, platform.key_courier, organization=organization, key_id=key_id
    )
    # the device key's URL is on the page too: show it all again
    if is_htmx(request) and key.scope != KeyScope.INGEST:
        return render(request, "partials/key_row.html", {"key": key, "organization": organization})
    return redirect(request, f"/dashboard?organization_id={organization.id}")


@router.post("/dashboard/keys/device", dependencies=CsrfChecked)
async def new_device_key(
    request: Request,
    account: BrowserAccountDep,
    session: SessionDep,
    platform: PlatformDep,
    organization_id: FormText = "",
) -> Response:
    """Replaces the device key; the page is shown again with the new tracker URL."""
    organization = await accounts.resolve_organization(
        session, account, views.parse_organization_id(organization_id)
    )
    await device_keys.replace_device_key(
        session,
        platform.key_courier,
        platform.secret_box,
        organization=organization,
        created_by=account,
    )
    return redirect(request, f"/dashboard?organization_id={organization.id}")

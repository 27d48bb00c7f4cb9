from __future__ import annotations

import uuid

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from webhost.control.dependencies import (
    AccountDep,
    OperatorDep,
    OrganizationDep,
    PlatformDep,
    SessionDep,
)
from webhost.control.deployments import export, plan_change, repository, reshape, service
from webhost.control.deployments.schemas import DeploymentOut, PlanChangeIn
from webhost.control.keys.device_keys import device_key_for_member
from webhost.control.moves import service as moves
from webhost.control.moves.schemas import MoveOut
from webhost.errors import NotFound

router = APIRouter(prefix="/api", tags=["deployments"])


@router.get("/deployments", response_model=list[DeploymentOut])
async def list_deployments(
    account: AccountDep, organization: OrganizationDep, session: SessionDep, platform: PlatformDep
) -> list[DeploymentOut]:
    device_key = await device_key_for_member(
        session, platform.key_courier, platform.secret_box, account, organization.id, create=True
    )
    found = await service.live_deployments(session, organization.id)
    return [await service.describe(session, d, device_key=device_key) for d in found]


@router.get("/deployments/{deployment_id}", response_model=DeploymentOut)
async def get_deployment(
    deployment_id: uuid.UUID, account: AccountDep, session: SessionDep, platform: PlatformDep
) -> DeploymentOut:
    """`osmand_url` is shown to members of the deployment's organization only."""
    deployment = await service.visible_deployment(session, account, deployment_id)
    device_key = await device_key_for_member(
        session,
        platform.key_courier,
        platform.secret_box,
        account,
        deployment.organization_id,
        create=True,
    )
    return await service.describe(session, deployment, device_key=device_key)


@router.post("/deployments/{deployment_id}/plan", response_model=DeploymentOut, status_code=202)
async def change_plan(
    deployment_id: uuid.UUID,
    body: PlanChangeIn,
    account: AccountDep,
    session: SessionDep,
    platform: PlatformDep,
) -> DeploymentOut:
    """Move the deployment to another plan of the same mode: limits and regions change in
    place; a smaller plan that cannot hold its data is refused with what to remove (409)."""
    deployment = await service.visible_deployment(session, account, deployment_id)
    changed = await plan_change.change_plan(
        session,
        platform.providers,
        platform.billing.api if platform.billing else None,
        deployment,
        plan_change.PlanChange(body.plan, confirm_trim=body.confirm_trim),
    )
    return await service.describe(session, changed)


@router.get(
    "/deployments/{deployment_id}/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
async def export_deployment(
    deployment_id: uuid.UUID, account: AccountDep, session: SessionDep, platform: PlatformDep
) -> StreamingResponse:
    """All of the deployment's data as JSON lines, also while it is suspended (a cancelled
    subscription's data is kept for this until its deletion date): a first line describing the
    export, then one line per row, ``{"table": ..., "row": {...}}``."""
    deployment = await service.visible_deployment(session, account, deployment_id)
    lines = await export.export_lines(session, platform.providers, deployment)
    return StreamingResponse(
        lines,
        media_type="application/x-ndjson",
        headers={"Content-Disposition": f'attachment; filename="{export.filename(deployment)}"'},
    )


@router.get("/admin/deployments", response_model=list[DeploymentOut], tags=["operator"])
async def all_deployments(_operator: OperatorDep, session: SessionDep) -> list[DeploymentOut]:
    return [await service.describe(session, d) for d in await repository.all_deployments(session)]


@router.post(
    "/admin/deployments/{deployment_id}/retry",
    response_model=DeploymentOut,
    status_code=202,
    tags=["operator"],
)
async def retry_deployment(
    deployment_id: uuid.UUID, _operator: OperatorDep, session: SessionDep
) -> DeploymentOut:
    """Provision a failed deployment again, as a new run of its provisioning workflow."""
    return await service.describe(session, await service.retry_provisioning(session, deployment_id))


@router.get("/deployments/{deployment_id}/move", response_model=MoveOut)
async def newest_move(
    deployment_id: uuid.UUID, account: AccountDep, session: SessionDep
) -> MoveOut:
    """The deployment's newest move between shared and dedicated hosting, and until when the
    copy it moved from is kept (a move back waits for its removal)."""
    deployment = await service.visible_deployment(session, account, deployment_id)
    move = await moves.newest_move(session, deployment)
    if move is None:
        raise NotFound(f"deployment {deployment_id} has never moved")
    return move


@router.post(
    "/admin/deployments/{deployment_id}/move/retry",
    response_model=DeploymentOut,
    status_code=202,
    tags=["operator"],
)
async def retry_move(
    deployment_id: uuid.UUID, operator: OperatorDep, session: SessionDep, platform: PlatformDep
) -> DeploymentOut:
    """Start again the move that was rolled back (409 when the newest move did not fail, or the
    deployment has changed plan since)."""
    deployment = await service.visible_deployment(session, operator, deployment_id)
    moving = await plan_change.retry_move(
        session,
        platform.providers,
        platform.billing.api if platform.billing else None,
        deployment,
    )
    return await service.describe(session, moving)


@router.post(
    "/admin/deployments/{deployment_id}/reshape/retry",
    response_model=DeploymentOut,
    status_code=202,
    tags=["operator"],
)
async def retry_reshape(
    deployment_id: uuid.UUID, operator: OperatorDep, session: SessionDep
) -> DeploymentOut:
    """Bring the servers in line with the deployment's plan again, after that failed for good
    (409 otherwise); the deployment serves on meanwhile."""
    deployment = await service.visible_deployment(session, operator, deployment_id)
    await reshape.retry(session, deployment)
    return await service.describe(session, deployment)


@router.post(
    "/admin/deployments/{deployment_id}/old-copy/removal",
    response_model=MoveOut,
    status_code=202,
    tags=["operator"],
)
async def remove_old_copy(
    deployment_id: uuid.UUID, operator: OperatorDep, session: SessionDep
) -> MoveOut:
    """End a move's safety window now: the copy the deployment moved from is removed at once
    (409 when none is kept)."""
    deployment = await service.visible_deployment(session, operator, deployment_id)
    await moves.remove_old_copy_now(session, deployment)
    move = await moves.newest_move(session, deployment)
    assert move is not None
    return move

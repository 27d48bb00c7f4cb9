from __future__ import annotations

import uuid

from fastapi import APIRouter

from webhost.control.dependencies import AccountDep, OperatorDep, OrganizationDep, SessionDep
from webhost.control.deployments import repository, service
from webhost.control.deployments.schemas import DeploymentOut

router = APIRouter(prefix="/api", tags=["deployments"])


@router.get("/deployments", response_model=list[DeploymentOut])
async def list_deployments(
    organization: OrganizationDep, session: SessionDep
) -> list[DeploymentOut]:
    found = await service.live_deployments(session, organization.id)
    return [await service.describe(session, deployment) for deployment in found]


@router.get("/deployments/{deployment_id}", response_model=DeploymentOut)
async def get_deployment(
    deployment_id: uuid.UUID, account: AccountDep, session: SessionDep
) -> DeploymentOut:
    deployment = await service.visible_deployment(session, account, deployment_id)
    return await service.describe(session, deployment)


@router.get("/admin/deployments", response_model=list[DeploymentOut], tags=["operator"])
async def all_deployments(_operator: OperatorDep, session: SessionDep) -> list[DeploymentOut]:
    return [await service.describe(session, d) for d in await repository.all_deployments(session)]

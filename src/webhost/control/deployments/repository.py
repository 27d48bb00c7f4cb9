from __future__ import annotations

import uuid

from sqlalchemy import and_, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from webhost.control.deployments.models import Deployment, DeploymentStatus
from webhost.control.plans.models import Plan


async def add(session: AsyncSession, deployment: Deployment) -> Deployment:
    session.add(deployment)
    await session.flush()
    return deployment


async def get(session: AsyncSession, deployment_id: uuid.UUID) -> Deployment | None:
    return await session.get(Deployment, deployment_id)


async def lock(session: AsyncSession, deployment_id: uuid.UUID) -> Deployment | None:
    """Serialises key changes with activation: both hold the deployment row."""
    deployment: Deployment | None = await session.scalar(
        select(Deployment).where(Deployment.id == deployment_id).with_for_update()
    )
    return deployment


async def for_organization(session: AsyncSession, organization_id: uuid.UUID) -> list[Deployment]:
    statement = (
        select(Deployment)
        .where(
            Deployment.organization_id == organization_id,
            Deployment.status != DeploymentStatus.DELETED,
        )
        .order_by(Deployment.created_at)
    )
    return list((await session.scalars(statement)).all())


async def all_deployments(session: AsyncSession, *, limit: int = 500) -> list[Deployment]:
    statement = select(Deployment).order_by(Deployment.created_at.desc()).limit(limit)
    return list((await session.scalars(statement)).all())


async def plan_slug(session: AsyncSession, plan_id: uuid.UUID) -> str:
    slug: str = (await session.execute(select(Plan.slug).where(Plan.id == plan_id))).scalar_one()
    return slug


async def plan_of(session: AsyncSession, plan_id: uuid.UUID) -> Plan:
    plan: Plan = (await session.execute(select(Plan).where(Plan.id == plan_id))).scalar_one()
    return plan


async def all_active(session: AsyncSession) -> list[Deployment]:
    rows = await session.execute(
        select(Deployment).where(Deployment.status == DeploymentStatus.ACTIVE)
    )
    return list(rows.scalars())


async def active_on_plan(session: AsyncSession, plan_id: uuid.UUID) -> list[Deployment]:
    rows = await session.execute(
        select(Deployment).where(
            Deployment.plan_id == plan_id, Deployment.status == DeploymentStatus.ACTIVE
        )
    )
    return list(rows.scalars())


async def orphaned_provisioning(session: AsyncSession) -> list[uuid.UUID]:
    """Deployments still provisioning with no queued or running job (e.g. aborted at shutdown)."""
    rows = await session.execute(
        text(
            "SELECT d.id FROM deployments d WHERE d.status = 'provisioning' "
            "AND d.created_at < now() - interval '5 seconds' "
            "AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs j "
            "WHERE j.lock = 'deployment:' || d.id::text AND j.status IN ('todo', 'doing'))"
        )
    )
    return list(rows.scalars().all())


async def plane_state_disagrees(session: AsyncSession) -> list[uuid.UUID]:
    """Deployments whose plane was last told otherwise than their status says."""
    rows = await session.scalars(
        select(Deployment.id).where(
            or_(
                and_(
                    Deployment.status == DeploymentStatus.SUSPENDED,
                    Deployment.plane_state.is_distinct_from("suspended"),
                ),
                and_(
                    Deployment.status == DeploymentStatus.ACTIVE,
                    Deployment.plane_state.is_not(None),
                ),
            )
        )
    )
    return list(rows.all())

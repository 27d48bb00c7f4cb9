"""The billing sweep: grace periods and paid periods that ended suspend their deployments,
planes that were not told their deployment's state are told again, and suspended deployments
of cancelled subscriptions past their retention window are deleted."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from webhost.control.billing import repository, suspension
from webhost.control.billing.suspension import PlaneStates
from webhost.control.deployments import repository as deployments_repository
from webhost.control.deployments import service as deployments
from webhost.control.deployments.models import DeploymentStatus
from webhost.control.provisioning import deprovision
from webhost.db.after_commit import run_after_commit


async def sweep(sessions: async_sessionmaker[AsyncSession], planes: PlaneStates) -> int:
    """Returns how many subscriptions were suspended."""
    async with sessions.begin() as session:
        due = await repository.due_for_suspension(session)
        for subscription in due:
            await suspension.suspend(session, planes, subscription)
    await run_after_commit(session)
    await planes.reconcile()
    await _delete_expired(sessions)
    return len(due)


async def _delete_expired(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        for subscription in await repository.due_for_deletion(session):
            organization = subscription.organization_id
            for deployment in await deployments.live_deployments(session, organization):
                locked = await deployments_repository.lock(session, deployment.id)
                if locked is not None and locked.status == DeploymentStatus.SUSPENDED:
                    await deprovision.queue_deprovisioning(session, locked)

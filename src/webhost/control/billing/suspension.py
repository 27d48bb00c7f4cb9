"""An unpaid or ended subscription suspends its deployments; payment resumes them.

Suspension changes the deployments' status in the caller's transaction; their data planes are
told after the commit (402 with the reason for every key, sockets closed), and
``deployments.plane_state`` records what each plane was told, so the billing sweep tells again
any plane that disagrees (a plane that was unreachable, a process killed after the commit).
Nothing is deleted.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from webhost.control.billing import repository
from webhost.control.billing.models import Subscription, SubscriptionStatus
from webhost.control.deployments import repository as deployments_repository
from webhost.control.deployments import service as deployments
from webhost.control.deployments.models import DeploymentStatus
from webhost.control.providers.registry import Providers
from webhost.data.tenancy.repository import ServingState
from webhost.db.after_commit import after_commit

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class PlaneStates:
    """Tells data planes whether a deployment is served, from its status in the control plane."""

    sessions: async_sessionmaker[AsyncSession]
    providers: Providers

    async def apply(self, deployment_id: uuid.UUID) -> None:
        async with self.sessions.begin() as session:
            deployment = await deployments_repository.get(session, deployment_id)
            if deployment is None or deployment.status not in (
                DeploymentStatus.ACTIVE,
                DeploymentStatus.SUSPENDED,
            ):
                return
            spec = await deployments.spec_of(session, deployment)
            subscription = await repository.latest_of(session, deployment.organization_id)
            message = suspension_message(subscription) if subscription else None
            state = (
                ServingState.SUSPENDED
                if deployment.status == DeploymentStatus.SUSPENDED
                else ServingState.ACTIVE
            )
            await self.providers.get(spec.provider).set_serving_state(
                spec, state, message if state == ServingState.SUSPENDED else None
            )
            deployment.plane_state = None if state == ServingState.ACTIVE else state.value

    async def reconcile(self) -> int:
        """Tell again every plane whose last word disagrees with its deployment's status."""
        async with self.sessions() as session:
            disagreeing = await deployments_repository.plane_state_disagrees(session)
        told = 0
        for deployment_id in disagreeing:
            try:
                await self.apply(deployment_id)
            except Exception as exc:  # the next sweep tries again
                log.warning(
                    "plane not told its serving state",
                    deployment=str(deployment_id),
                    error=str(exc),
                )
                continue
            told += 1
        return told


def suspension_message(subscription: Subscription) -> str:
    """What the deployment's apps are told, with a 402, while it is suspended."""
    if subscription.status == SubscriptionStatus.CANCELED:
        if subscription.delete_after is None:
            return "this deployment's subscription has ended; its data is kept"
        return (
            "this deployment's subscription has ended; its data is kept until "
            f"{subscription.delete_after:%Y-%m-%d} for its owner to export"
        )
    until = f" on {subscription.grace_until:%Y-%m-%d}" if subscription.grace_until else ""
    return (
        f"this deployment is suspended: a payment failed and the grace period ended{until}; "
        "its owner can pay in the WebHost dashboard to restore it"
    )


async def suspend(session: AsyncSession, planes: PlaneStates, subscription: Subscription) -> None:
    subscription.suspended_at = datetime.now(UTC)
    await _move(session, planes, subscription, DeploymentStatus.ACTIVE, DeploymentStatus.SUSPENDED)
    log.info("deployments suspended", organization=str(subscription.organization_id))


async def resume(session: AsyncSession, planes: PlaneStates, subscription: Subscription) -> None:
    if subscription.suspended_at is None:
        return
    subscription.suspended_at = None
    await _move(session, planes, subscription, DeploymentStatus.SUSPENDED, DeploymentStatus.ACTIVE)
    log.info("deployments resumed", organization=str(subscription.organization_id))


async def _move(
    session: AsyncSession,
    planes: PlaneStates,
    subscription: Subscription,
    source: DeploymentStatus,
    target: DeploymentStatus,
) -> None:
    for deployment in await deployments.live_deployments(session, subscription.organization_id):
        locked = await deployments_repository.lock(session, deployment.id)
        if locked is None or locked.status != source:
            continue
        locked.status = target
        after_commit(
            session,
            partial(planes.apply, locked.id),
            name=f"serving state {locked.id}",
        )

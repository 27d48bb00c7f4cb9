"""Key changes reach the data planes through an outbox, never inside a control transaction.

Creating or revoking a key locks the organization's live deployment rows (as activation does,
so no deployment misses a key), writes one ``key_deliveries`` row per deployment and commits.
Right after the commit, before the response, the courier delivers the rows to each active
deployment's data plane, in the order they were written; rows it could not deliver (a plane
unreachable, a process killed after commit) are swept again by job recovery. Deployments still
provisioning get their rows when they are activated. So a revocation is refused by the data
plane before the request that made it returns, whenever the plane is reachable.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from functools import partial

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from webhost.control.deployments import repository as deployments_repository
from webhost.control.deployments import service as deployments
from webhost.control.deployments.models import Deployment, DeploymentStatus
from webhost.control.keys import delivery_repository as repository
from webhost.control.keys.models import ApiKey, DeliveryAction
from webhost.control.providers.registry import Providers
from webhost.db.after_commit import after_commit
from webhost.errors import ProvisioningError

log = structlog.get_logger(__name__)

# deployments whose data plane exists or is being made, so a key change is recorded for them
LIVE_STATUSES = frozenset(
    {
        DeploymentStatus.AWAITING_PAYMENT,
        DeploymentStatus.PROVISIONING,
        DeploymentStatus.ACTIVE,
        DeploymentStatus.MIGRATING,
        DeploymentStatus.SUSPENDED,
    }
)
# changes left undelivered this long are delivered by the recovery sweep
STALE_AFTER = timedelta(seconds=5)


class KeyDeliveryFailed(ProvisioningError):
    """A data plane did not take a key change; the change stays in the outbox."""


class KeyCourier:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], providers: Providers) -> None:
        self.sessions = sessions
        self.providers = providers

    async def publish(self, session: AsyncSession, key: ApiKey) -> None:
        await self._record(session, key, DeliveryAction.PUBLISH)

    async def revoke(self, session: AsyncSession, key: ApiKey) -> None:
        """``key`` must be locked (or new in this transaction); a revoked key is left as it is."""
        if key.revoked_at is not None:
            return
        await self._record(session, key, DeliveryAction.REVOKE)
        key.revoked_at = datetime.now(UTC)

    async def _record(self, session: AsyncSession, key: ApiKey, action: DeliveryAction) -> None:
        for deployment in await _locked_live_deployments(session, key.organization_id):
            await repository.record(session, deployment.id, key.id, action)
            after_commit(
                session,
                partial(self.deliver, deployment.id),
                name=f"key deliveries {deployment.id}",
            )

    async def deliver(self, deployment_id: uuid.UUID, *, activating: bool = False) -> int:
        """Deliver the deployment's pending changes in order; returns how many were delivered.
        Only active deployments take them, and a provisioning one while it is being activated.
        """
        delivered = 0
        failure: Exception | None = None
        async with self.sessions.begin() as session:
            await repository.hold_deliveries_of(session, deployment_id)
            deployment = await deployments_repository.get(session, deployment_id)
            if deployment is None or not _takes_deliveries(deployment, activating=activating):
                return 0
            pending = await repository.pending(session, deployment_id)
            if not pending:
                return 0
            spec = await deployments.spec_of(session, deployment)
            provider = self.providers.get(spec.provider)
            for delivery, key in pending:
                delivery.attempts += 1
                try:
                    if delivery.action == DeliveryAction.PUBLISH:
                        await provider.publish_key(spec, key.prefix, key.secret_digest, key.scope)
                    else:
                        await provider.revoke_key(spec, key.prefix)
                except Exception as exc:  # kept in the outbox: later rows wait behind it
                    delivery.last_error = _describe(exc)
                    failure = exc
                    break
                delivery.delivered_at = datetime.now(UTC)
                delivered += 1
        if failure is not None:
            raise KeyDeliveryFailed(
                f"deployment {deployment_id} did not take a key change: {_describe(failure)}"
            ) from failure
        return delivered

    async def has_pending(self, session: AsyncSession, deployment_id: uuid.UUID) -> bool:
        return await repository.has_pending(session, deployment_id)

    async def sweep(self) -> int:
        """Deliver what was left behind; returns how many changes went out."""
        async with self.sessions() as session:
            stale = await repository.deployments_with_stale_deliveries(session, STALE_AFTER)
        delivered = 0
        for deployment_id in stale:
            try:
                delivered += await self.deliver(deployment_id)
            except KeyDeliveryFailed as exc:
                log.warning("key changes still undelivered", reason=exc.message)
        return delivered


def _takes_deliveries(deployment: Deployment, *, activating: bool) -> bool:
    if deployment.status in (
        DeploymentStatus.ACTIVE,
        DeploymentStatus.SUSPENDED,
        # to the plane it moves from; the move publishes every key to its new plane itself
        DeploymentStatus.MIGRATING,
    ):
        return True  # a suspended plane still holds the keys it will serve again
    return activating and deployment.status == DeploymentStatus.PROVISIONING


async def _locked_live_deployments(
    session: AsyncSession, organization_id: uuid.UUID
) -> list[Deployment]:
    locked: list[Deployment] = []
    for deployment in await deployments.live_deployments(session, organization_id):
        row = await deployments_repository.lock(session, deployment.id)
        if row is not None and row.status in LIVE_STATUSES:
            locked.append(row)
    return locked


def _describe(exc: BaseException) -> str:
    # the workflow's wording: never SQL text, which could hold a password
    from webhost.control.provisioning.runner import describe_failure

    return describe_failure(exc)

"""A key reaches, or leaves, every active deployment of its organization.

Both hold the organization's live deployment rows, as activation does, so a key is never
missed by a deployment that becomes active at the same moment.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from webhost.control.deployments import repository as deployments_repository
from webhost.control.deployments import service as deployments
from webhost.control.deployments.models import Deployment, DeploymentStatus
from webhost.control.keys.models import ApiKey
from webhost.control.providers.registry import Providers


async def publish(session: AsyncSession, providers: Providers, key: ApiKey) -> None:
    for deployment in await _locked_active_deployments(session, key.organization_id):
        spec = await deployments.spec_of(session, deployment)
        provider = providers.get(spec.provider)
        await provider.publish_key(spec, key.prefix, key.secret_digest, key.scope)


async def revoke(session: AsyncSession, providers: Providers, key: ApiKey) -> None:
    """``key`` must be locked (or new in this transaction); a revoked key is left as it is."""
    if key.revoked_at is not None:
        return
    for deployment in await _locked_active_deployments(session, key.organization_id):
        spec = await deployments.spec_of(session, deployment)
        await providers.get(spec.provider).revoke_key(spec, key.prefix)
    key.revoked_at = datetime.now(UTC)


async def _locked_active_deployments(
    session: AsyncSession, organization_id: uuid.UUID
) -> list[Deployment]:
    locked: list[Deployment] = []
    for deployment in await deployments.live_deployments(session, organization_id):
        row = await deployments_repository.lock(session, deployment.id)
        if row is not None and row.status == DeploymentStatus.ACTIVE:
            locked.append(row)
    return locked

"""API keys: minted here, stored as digests, pushed to the organization's data planes.

Creating or revoking a key and activating a deployment both lock the deployment row, so a key
is never missed by a deployment that becomes active at the same moment.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from webhost.control.accounts.models import Account, Organization
from webhost.control.deployments import repository as deployments_repository
from webhost.control.deployments import service as deployments
from webhost.control.deployments.models import Deployment, DeploymentStatus
from webhost.control.keys import repository
from webhost.control.keys.models import ApiKey
from webhost.control.providers.base import Provider
from webhost.errors import Conflict, NotFound
from webhost.security.api_keys import generate_api_key

MAX_ACTIVE_KEYS = 50


async def create_key(
    session: AsyncSession,
    provider: Provider,
    *,
    organization: Organization,
    created_by: Account,
    name: str,
) -> tuple[ApiKey, str]:
    if len(await repository.active_for_organization(session, organization.id)) >= MAX_ACTIVE_KEYS:
        raise Conflict(f"an organization can hold {MAX_ACTIVE_KEYS} active keys; revoke one first")
    new_key = generate_api_key()
    key = await repository.add(
        session,
        ApiKey(
            organization_id=organization.id,
            created_by_id=created_by.id,
            name=name,
            prefix=new_key.prefix,
            secret_digest=new_key.secret_digest,
        ),
    )
    for deployment in await _locked_live_deployments(session, organization.id):
        if deployment.status == DeploymentStatus.ACTIVE:
            spec = await deployments.spec_of(session, deployment)
            await provider.publish_key(spec, key.prefix, key.secret_digest)
    return key, new_key.full_key


async def list_keys(session: AsyncSession, organization: Organization) -> list[ApiKey]:
    return await repository.for_organization(session, organization.id)


async def revoke_key(
    session: AsyncSession, provider: Provider, *, organization: Organization, key_id: uuid.UUID
) -> ApiKey:
    key = await repository.lock(session, key_id)
    if key is None or key.organization_id != organization.id:
        raise NotFound(f"key {key_id} not found")
    if key.revoked_at is not None:
        return key
    for deployment in await _locked_live_deployments(session, organization.id):
        if deployment.status == DeploymentStatus.ACTIVE:
            spec = await deployments.spec_of(session, deployment)
            await provider.revoke_key(spec, key.prefix)
    key.revoked_at = datetime.now(UTC)
    return key


async def _locked_live_deployments(
    session: AsyncSession, organization_id: uuid.UUID
) -> list[Deployment]:
    locked: list[Deployment] = []
    for deployment in await deployments.live_deployments(session, organization_id):
        row = await deployments_repository.lock(session, deployment.id)
        if row is not None:
            locked.append(row)
    return locked

"""API keys: minted here, stored as digests, pushed to the organization's data planes.

Creating or revoking a key and activating a deployment both lock the deployment row, so a key
is never missed by a deployment that becomes active at the same moment.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from webhost.control.accounts.models import Account, Organization
from webhost.control.keys import device_keys, repository
from webhost.control.keys.courier import KeyCourier
from webhost.control.keys.models import ApiKey, KeyScope
from webhost.errors import Conflict, NotFound
from webhost.security.api_keys import generate_api_key
from webhost.security.secret_box import SecretBox

MAX_ACTIVE_KEYS = 50


async def create_key(
    session: AsyncSession,
    courier: KeyCourier,
    box: SecretBox,
    *,
    organization: Organization,
    created_by: Account,
    name: str,
) -> tuple[ApiKey, str]:
    """A full key; the organization's first one brings its device key along."""
    await repository.lock_organization(session, organization.id)
    active = await repository.active_for_organization(session, organization.id, KeyScope.FULL)
    if len(active) >= MAX_ACTIVE_KEYS:
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
            scope=KeyScope.FULL,
        ),
    )
    await courier.publish(session, key)
    await device_keys.ensure_device_key(
        session, courier, box, organization.id, created_by_id=created_by.id
    )
    return key, new_key.full_key


async def list_keys(session: AsyncSession, organization: Organization) -> list[ApiKey]:
    return await repository.for_organization(session, organization.id)


async def revoke_key(
    session: AsyncSession, courier: KeyCourier, *, organization: Organization, key_id: uuid.UUID
) -> ApiKey:
    """Any key, the device key included (a new one is made the next time one is asked for)."""
    key = await repository.lock(session, key_id)
    if key is None or key.organization_id != organization.id:
        raise NotFound(f"key {key_id} not found")
    await courier.revoke(session, key)
    return key

"""The device key: one active key of scope ``ingest`` per organization, for tracker phones.

Tracker apps (Traccar Client, speaking the OsmAnd protocol) can be given nothing but a server
URL, so the key goes into the URL; its secret is kept sealed with the secret box so members can
be shown that URL again. It comes with the organization's first full key (and, for
organizations that had keys before device keys existed, the first time it is asked for).
"""

from __future__ import annotations

import uuid

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from webhost.control.accounts import repository as accounts
from webhost.control.accounts.models import Account, Organization
from webhost.control.keys import repository
from webhost.control.keys.courier import KeyCourier
from webhost.control.keys.models import ApiKey, KeyScope
from webhost.errors import ConfigurationError, Conflict
from webhost.security.api_keys import generate_api_key
from webhost.security.secret_box import SecretBox

log = structlog.get_logger(__name__)

DEVICE_KEY_NAME = "Devices (OsmAnd)"


async def ensure_device_key(
    session: AsyncSession,
    courier: KeyCourier,
    box: SecretBox,
    organization_id: uuid.UUID,
    *,
    created_by_id: uuid.UUID | None = None,
) -> ApiKey | None:
    """The active device key, made (and published) when the organization has an active full
    key but no device key; None while it has no active full key."""
    current = await repository.active_device_key(session, organization_id)
    if current is not None:
        return current
    # checked again under the lock: readers of one organization race to make it
    await repository.lock_organization(session, organization_id)
    current = await repository.active_device_key(session, organization_id)
    if current is not None:
        return current
    if not await repository.has_active_full_key(session, organization_id):
        return None
    return await _create(session, courier, box, organization_id, created_by_id)


async def replace_device_key(
    session: AsyncSession,
    courier: KeyCourier,
    box: SecretBox,
    *,
    organization: Organization,
    created_by: Account,
) -> ApiKey:
    """Revoke the device key (phones using its URL are refused at once) and make a new one."""
    await repository.lock_organization(session, organization.id)
    if not await repository.has_active_full_key(session, organization.id):
        raise Conflict("create an API key first: the device key comes with it")
    current = await repository.active_device_key(session, organization.id)
    if current is not None:
        locked = await repository.lock(session, current.id)
        assert locked is not None
        await courier.revoke(session, locked)
        # the old key must be revoked in the database before its successor exists (one active)
        await session.flush()
    return await _create(session, courier, box, organization.id, created_by.id)


async def device_key_for_member(
    session: AsyncSession,
    courier: KeyCourier,
    box: SecretBox,
    account: Account,
    organization_id: uuid.UUID,
    *,
    create: bool,
) -> str | None:
    """The device key in full, for members of its organization only; None while the
    organization has no active full key. ``create`` makes a missing one (callers that commit)."""
    if await accounts.membership(session, organization_id, account.id) is None:
        return None
    if not await repository.has_active_full_key(session, organization_id):
        return None
    if create:
        key = await ensure_device_key(session, courier, box, organization_id)
    else:
        key = await repository.active_device_key(session, organization_id)
    return None if key is None else _open(box, key)


async def _create(
    session: AsyncSession,
    courier: KeyCourier,
    box: SecretBox,
    organization_id: uuid.UUID,
    created_by_id: uuid.UUID | None,
) -> ApiKey:
    new_key = generate_api_key()
    key = ApiKey(
        organization_id=organization_id,
        created_by_id=created_by_id,
        name=DEVICE_KEY_NAME,
        prefix=new_key.prefix,
        secret_digest=new_key.secret_digest,
        scope=KeyScope.INGEST,
    )
    key.sealed_key = box.encrypt(new_key.full_key.encode(), context=_context(key))
    await repository.add(session, key)
    await courier.publish(session, key)
    return key


def _open(box: SecretBox, key: ApiKey) -> str | None:
    assert key.sealed_key is not None
    try:
        return box.decrypt(key.sealed_key, context=_context(key)).decode()
    except ConfigurationError:
        # sealed under another WEBHOST_SECRET_KEY: phones keep working, the URL cannot be shown
        log.warning(
            "device key cannot be unsealed; replace it to show its URL",
            organization=str(key.organization_id),
            prefix=key.prefix,
        )
        return None


def _context(key: ApiKey) -> str:
    """Binds the sealed secret to its row: it cannot be moved to another key or organization."""
    return f"api_key:{key.organization_id}:{key.prefix}"

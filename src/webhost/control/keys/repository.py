from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from webhost.control.accounts.models import Organization
from webhost.control.keys.models import ApiKey, KeyScope


async def add(session: AsyncSession, key: ApiKey) -> ApiKey:
    session.add(key)
    await session.flush()
    return key


async def for_organization(session: AsyncSession, organization_id: uuid.UUID) -> list[ApiKey]:
    statement = (
        select(ApiKey)
        .where(ApiKey.organization_id == organization_id)
        .order_by(ApiKey.created_at, ApiKey.scope, ApiKey.id)
    )
    return list((await session.scalars(statement)).all())


async def active_for_organization(
    session: AsyncSession, organization_id: uuid.UUID, scope: KeyScope | None = None
) -> list[ApiKey]:
    statement = select(ApiKey).where(
        ApiKey.organization_id == organization_id, ApiKey.revoked_at.is_(None)
    )
    if scope is not None:
        statement = statement.where(ApiKey.scope == scope)
    return list((await session.scalars(statement)).all())


async def has_active_full_key(session: AsyncSession, organization_id: uuid.UUID) -> bool:
    found = await session.scalar(
        select(ApiKey.id)
        .where(
            ApiKey.organization_id == organization_id,
            ApiKey.scope == KeyScope.FULL,
            ApiKey.revoked_at.is_(None),
        )
        .limit(1)
    )
    return found is not None


async def active_device_key(session: AsyncSession, organization_id: uuid.UUID) -> ApiKey | None:
    key: ApiKey | None = await session.scalar(
        select(ApiKey).where(
            ApiKey.organization_id == organization_id,
            ApiKey.scope == KeyScope.INGEST,
            ApiKey.revoked_at.is_(None),
        )
    )
    return key


async def lock(session: AsyncSession, key_id: uuid.UUID) -> ApiKey | None:
    key: ApiKey | None = await session.scalar(
        select(ApiKey)
        .where(ApiKey.id == key_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return key


async def lock_organization(session: AsyncSession, organization_id: uuid.UUID) -> None:
    """Serialises the creation of an organization's keys (one device key, the key limit)."""
    await session.execute(
        select(Organization.id).where(Organization.id == organization_id).with_for_update()
    )

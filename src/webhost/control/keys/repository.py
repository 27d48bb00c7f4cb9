from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from webhost.control.keys.models import ApiKey


async def add(session: AsyncSession, key: ApiKey) -> ApiKey:
    session.add(key)
    await session.flush()
    return key


async def for_organization(session: AsyncSession, organization_id: uuid.UUID) -> list[ApiKey]:
    statement = (
        select(ApiKey).where(ApiKey.organization_id == organization_id).order_by(ApiKey.created_at)
    )
    return list((await session.scalars(statement)).all())


async def active_for_organization(
    session: AsyncSession, organization_id: uuid.UUID
) -> list[ApiKey]:
    statement = select(ApiKey).where(
        ApiKey.organization_id == organization_id, ApiKey.revoked_at.is_(None)
    )
    return list((await session.scalars(statement)).all())


async def lock(session: AsyncSession, key_id: uuid.UUID) -> ApiKey | None:
    key: ApiKey | None = await session.scalar(
        select(ApiKey).where(ApiKey.id == key_id).with_for_update()
    )
    return key

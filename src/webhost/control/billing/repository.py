from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from webhost.control.billing.models import Subscription


async def add(session: AsyncSession, subscription: Subscription) -> Subscription:
    session.add(subscription)
    await session.flush()
    return subscription


async def latest_of(session: AsyncSession, organization_id: uuid.UUID) -> Subscription | None:
    subscription: Subscription | None = await session.scalar(
        select(Subscription)
        .where(Subscription.organization_id == organization_id)
        .order_by(Subscription.created_at.desc())
        .limit(1)
    )
    return subscription


async def set_plan(session: AsyncSession, subscription: Subscription, plan_id: uuid.UUID) -> None:
    subscription.plan_id = plan_id
    await session.flush()

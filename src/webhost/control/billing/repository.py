from __future__ import annotations

import uuid

from sqlalchemy import and_, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from webhost.control.billing.models import StripeEvent, Subscription, SubscriptionStatus


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


async def record_event(session: AsyncSession, event_id: str, event_type: str) -> bool:
    """True the first time an event id is seen (it is recorded then)."""
    inserted = await session.scalar(
        insert(StripeEvent)
        .values(id=event_id, type=event_type)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(StripeEvent.id)
    )
    return inserted is not None


async def find_by(session: AsyncSession, column: str, value: str) -> Subscription | None:
    """By ``stripe_subscription_id`` or ``stripe_checkout_session_id``, locked for the event."""
    found: Subscription | None = await session.scalar(
        select(Subscription).where(getattr(Subscription, column) == value).with_for_update()
    )
    return found


async def due_for_suspension(session: AsyncSession) -> list[Subscription]:
    """Past their grace period unpaid, or past the end of a cancelled subscription's period."""
    now = select(func.now()).scalar_subquery()
    rows = await session.scalars(
        select(Subscription)
        .where(
            Subscription.suspended_at.is_(None),
            or_(
                and_(
                    Subscription.status == SubscriptionStatus.PAST_DUE,
                    Subscription.grace_until < now,
                ),
                and_(
                    Subscription.status == SubscriptionStatus.CANCELED,
                    func.coalesce(Subscription.current_period_end, Subscription.canceled_at) < now,
                ),
            ),
        )
        .with_for_update(skip_locked=True)
    )
    return list(rows.all())


async def due_for_deletion(session: AsyncSession) -> list[Subscription]:
    """Cancelled, suspended and past the retention window that let their owners export."""
    now = select(func.now()).scalar_subquery()
    rows = await session.scalars(
        select(Subscription).where(
            Subscription.status == SubscriptionStatus.CANCELED,
            Subscription.suspended_at.is_not(None),
            Subscription.delete_after < now,
        )
    )
    return list(rows.all())

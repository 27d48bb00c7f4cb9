"""Subscriptions: which plan an organization is on, and from when."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from webhost.control.accounts.models import Organization
from webhost.control.billing import repository
from webhost.control.billing.models import Subscription, SubscriptionStatus
from webhost.control.plans.models import Plan


async def start_subscription(
    session: AsyncSession, organization: Organization, plan: Plan
) -> Subscription:
    """Put the organization on ``plan``, active from now: no payment is collected for it."""
    return await repository.add(
        session,
        Subscription(
            organization_id=organization.id, plan_id=plan.id, status=SubscriptionStatus.ACTIVE
        ),
    )


async def subscription_of(session: AsyncSession, organization_id: uuid.UUID) -> Subscription | None:
    """The organization's latest subscription, or None when it never had one."""
    return await repository.latest_of(session, organization_id)


async def change_plan(
    session: AsyncSession, subscription: Subscription, plan: Plan
) -> Subscription:
    """The same subscription, on ``plan`` from now on."""
    await repository.set_plan(session, subscription, plan.id)
    return subscription

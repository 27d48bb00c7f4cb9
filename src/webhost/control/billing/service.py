"""Subscriptions: which plan an organization is on, and from when."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from webhost.control.accounts import service as accounts
from webhost.control.accounts.models import Account, Organization
from webhost.control.billing import repository
from webhost.control.billing.models import Subscription, SubscriptionStatus
from webhost.control.billing.schemas import BillingOut
from webhost.control.billing.stripe_api import StripeApi
from webhost.control.plans import repository as plans_repository
from webhost.control.plans.models import Plan
from webhost.errors import NotFound


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


async def start_paid_subscription(
    session: AsyncSession,
    api: StripeApi,
    organization: Organization,
    plan: Plan,
    *,
    email: str,
    return_url: str,
) -> Subscription:
    """``incomplete`` until Stripe confirms the checkout; the customer pays at ``checkout_url``."""
    assert plan.stripe_price_id is not None
    customer = await api.create_customer(email, organization.name, organization.id)
    checkout = await api.create_checkout_session(
        customer.id,
        plan.stripe_price_id,
        organization.id,
        success_url=f"{return_url}?checkout=done",
        cancel_url=f"{return_url}?checkout=cancelled",
    )
    return await repository.add(
        session,
        Subscription(
            organization_id=organization.id,
            plan_id=plan.id,
            status=SubscriptionStatus.INCOMPLETE,
            stripe_customer_id=customer.id,
            stripe_checkout_session_id=checkout.id,
            checkout_url=checkout.url,
        ),
    )


def sold_through_stripe(plan: Plan, *, billing_enabled: bool) -> bool:
    """A plan with a Stripe price and a price above zero is paid for before it is provisioned."""
    return billing_enabled and plan.stripe_price_id is not None and plan.price_cents > 0


async def describe(session: AsyncSession, account: Account) -> BillingOut:
    organization = await accounts.resolve_organization(session, account, None)
    subscription = await subscription_of(session, organization.id)
    if subscription is None:
        raise NotFound(f"organization {organization.id} has no subscription")
    return BillingOut(
        plan=(await plans_repository.get(session, subscription.plan_id)).slug,
        status=subscription.status.value,
        billed_through_stripe=subscription.stripe_customer_id is not None,
        checkout_url=subscription.checkout_url,
        current_period_end=subscription.current_period_end,
        cancel_at_period_end=subscription.cancel_at_period_end,
        grace_until=subscription.grace_until,
        suspended_at=subscription.suspended_at,
        delete_after=subscription.delete_after,
    )


async def portal_url(
    session: AsyncSession, api: StripeApi, account: Account, *, return_url: str
) -> str:
    organization = await accounts.resolve_organization(session, account, None)
    subscription = await subscription_of(session, organization.id)
    if subscription is None or subscription.stripe_customer_id is None:
        raise NotFound("this organization is not billed through Stripe")
    portal = await api.create_portal_session(subscription.stripe_customer_id, return_url)
    return portal.url

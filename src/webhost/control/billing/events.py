"""What each Stripe event changes: recorded once by its id, applied in the request's transaction.

Stripe may deliver events late, twice or out of order, so each handler reads what the event
says about the subscription as it is now (status, period, price) rather than assuming the
previous step happened; events about subscriptions the platform did not make are recorded and
ignored.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from webhost.control.billing import repository, stripe_fields, suspension
from webhost.control.billing.models import Subscription, SubscriptionStatus
from webhost.control.billing.stripe_fields import StripeObject
from webhost.control.billing.suspension import PlaneStates
from webhost.control.deployments import plan_change
from webhost.control.deployments import service as deployments
from webhost.control.deployments.models import DeploymentStatus
from webhost.control.plans import repository as plans_repository
from webhost.errors import BadRequest, Conflict, InvalidInput

log = structlog.get_logger(__name__)

# Stripe's subscription statuses, as the platform keeps them
STATUSES = {
    "incomplete": SubscriptionStatus.INCOMPLETE,
    "trialing": SubscriptionStatus.ACTIVE,
    "active": SubscriptionStatus.ACTIVE,
    "past_due": SubscriptionStatus.PAST_DUE,
    "unpaid": SubscriptionStatus.PAST_DUE,
    "canceled": SubscriptionStatus.CANCELED,
    "incomplete_expired": SubscriptionStatus.CANCELED,
}


@dataclass(frozen=True)
class BillingRules:
    grace: timedelta
    retention: timedelta
    planes: PlaneStates


async def handle(session: AsyncSession, rules: BillingRules, event: dict[str, Any]) -> bool:
    """Apply a verified event; False when it was seen before (and changes nothing now)."""
    event_id, event_type = event.get("id"), event.get("type")
    data = event.get("data")
    stripe_object = data.get("object") if isinstance(data, dict) else None
    if not isinstance(event_id, str) or not isinstance(event_type, str):
        raise BadRequest("a Stripe event needs a string id and type")
    if not isinstance(stripe_object, dict):
        raise BadRequest("a Stripe event needs data.object")
    if not await repository.record_event(session, event_id, event_type):
        return False
    handler = HANDLERS.get(event_type)
    if handler is not None:
        await handler(session, rules, stripe_object)
    return True


async def _checkout_completed(
    session: AsyncSession, rules: BillingRules, checkout: StripeObject
) -> None:
    subscription = await _subscription_for(session, checkout)
    if subscription is None:
        return
    subscription.stripe_subscription_id = stripe_fields.text(checkout, "subscription") or (
        subscription.stripe_subscription_id
    )
    subscription.stripe_customer_id = stripe_fields.text(checkout, "customer") or (
        subscription.stripe_customer_id
    )
    if subscription.status == SubscriptionStatus.INCOMPLETE:
        subscription.status = SubscriptionStatus.ACTIVE
    subscription.checkout_url = None
    await _provision_paid_deployments(session, subscription)


async def _subscription_changed(
    session: AsyncSession, rules: BillingRules, stripe_subscription: StripeObject
) -> None:
    subscription = await _subscription_for(session, stripe_subscription)
    if subscription is None:
        return
    subscription.stripe_subscription_id = stripe_fields.text(stripe_subscription, "id")
    subscription.current_period_end = stripe_fields.period_end(stripe_subscription)
    subscription.cancel_at_period_end = bool(stripe_subscription.get("cancel_at_period_end"))
    await _follow_price(session, rules, subscription, stripe_fields.price_id(stripe_subscription))
    status = STATUSES.get(str(stripe_subscription.get("status")))
    if status is None:
        return
    if status == SubscriptionStatus.CANCELED:
        await _canceled(session, rules, subscription)
        return
    if status == SubscriptionStatus.PAST_DUE:
        await _payment_failed(session, rules, subscription)
        return
    if status == SubscriptionStatus.ACTIVE:
        await _paid(session, rules, subscription)


async def _follow_price(
    session: AsyncSession, rules: BillingRules, subscription: Subscription, price: str | None
) -> None:
    """A price changed in Stripe (the customer portal, the operator) moves the deployments to
    that price's plan, when the move can happen in place; otherwise it is logged and kept."""
    plan = await plans_repository.get_by_stripe_price(session, price) if price else None
    if plan is None or plan.id == subscription.plan_id:
        return
    for deployment in await deployments.live_deployments(session, subscription.organization_id):
        if deployment.status != DeploymentStatus.ACTIVE:
            continue
        try:
            await plan_change.change_plan(
                session,
                rules.planes.providers,
                None,
                deployment,
                plan_change.PlanChange(plan.slug, confirm_trim=True),
                from_stripe=True,
            )
        except (Conflict, InvalidInput) as exc:
            log.warning(
                "stripe moved a subscription to a plan the deployment cannot take in place",
                deployment=str(deployment.id),
                plan=plan.slug,
                reason=exc.message,
            )


async def _subscription_deleted(
    session: AsyncSession, rules: BillingRules, stripe_subscription: StripeObject
) -> None:
    """Stripe deletes a subscription when it ends: at its period's end after a cancellation
    there, or at once; it is served until ``ended_at``."""
    subscription = await _subscription_for(session, stripe_subscription)
    if subscription is not None:
        subscription.current_period_end = (
            stripe_fields.timestamp(stripe_subscription, "ended_at")
            or stripe_fields.period_end(stripe_subscription)
            or subscription.current_period_end
        )
        await _canceled(session, rules, subscription)


async def _invoice_paid(session: AsyncSession, rules: BillingRules, invoice: StripeObject) -> None:
    subscription = await _subscription_of_invoice(session, invoice)
    if subscription is not None and subscription.status != SubscriptionStatus.CANCELED:
        await _paid(session, rules, subscription)


async def _invoice_failed(
    session: AsyncSession, rules: BillingRules, invoice: StripeObject
) -> None:
    subscription = await _subscription_of_invoice(session, invoice)
    if subscription is not None and subscription.status != SubscriptionStatus.CANCELED:
        await _payment_failed(session, rules, subscription)


async def _paid(session: AsyncSession, rules: BillingRules, subscription: Subscription) -> None:
    subscription.status = SubscriptionStatus.ACTIVE
    subscription.grace_until = None
    await _provision_paid_deployments(session, subscription)
    await suspension.resume(session, rules.planes, subscription)


async def _payment_failed(
    session: AsyncSession, rules: BillingRules, subscription: Subscription
) -> None:
    """The grace period starts at the first failure; later failures do not extend it."""
    subscription.status = SubscriptionStatus.PAST_DUE
    if subscription.grace_until is None:
        subscription.grace_until = datetime.now(UTC) + rules.grace


async def _canceled(session: AsyncSession, rules: BillingRules, subscription: Subscription) -> None:
    """Served to the end of the paid period, then suspended; deleted after the retention."""
    now = datetime.now(UTC)
    subscription.status = SubscriptionStatus.CANCELED
    subscription.canceled_at = subscription.canceled_at or now
    ends = max(subscription.current_period_end or now, now)
    subscription.delete_after = subscription.delete_after or ends + rules.retention


async def _provision_paid_deployments(session: AsyncSession, subscription: Subscription) -> None:
    """Deployments waiting for the first payment are provisioned now, not before."""
    for deployment in await deployments.live_deployments(session, subscription.organization_id):
        if deployment.status == DeploymentStatus.AWAITING_PAYMENT:
            await deployments.start_provisioning(session, deployment)


async def _subscription_for(
    session: AsyncSession, stripe_object: StripeObject
) -> Subscription | None:
    """The platform's subscription an object names: by its Stripe ids, else by the organization
    the platform wrote into its metadata."""
    for column, value in (
        ("stripe_subscription_id", stripe_fields.text(stripe_object, "subscription")),
        ("stripe_subscription_id", _own_id(stripe_object, "sub_")),
        ("stripe_checkout_session_id", _own_id(stripe_object, "cs_")),
    ):
        if value is not None:
            found = await repository.find_by(session, column, value)
            if found is not None:
                return found
    organization = stripe_fields.organization_of(stripe_object)
    if organization is not None:
        try:
            organization_id = uuid.UUID(organization)
        except ValueError:
            return None
        return await repository.latest_of(session, organization_id)
    log.info("stripe event for a subscription the platform did not make")
    return None


async def _subscription_of_invoice(
    session: AsyncSession, invoice: StripeObject
) -> Subscription | None:
    stripe_subscription = stripe_fields.invoice_subscription(invoice)
    if stripe_subscription is None:
        return None
    return await repository.find_by(session, "stripe_subscription_id", stripe_subscription)


def _own_id(stripe_object: StripeObject, prefix: str) -> str | None:
    value = stripe_fields.text(stripe_object, "id")
    return value if value is not None and value.startswith(prefix) else None


HANDLERS = {
    "checkout.session.completed": _checkout_completed,
    "customer.subscription.created": _subscription_changed,
    "customer.subscription.updated": _subscription_changed,
    "customer.subscription.deleted": _subscription_deleted,
    "invoice.paid": _invoice_paid,
    "invoice.payment_failed": _invoice_failed,
}

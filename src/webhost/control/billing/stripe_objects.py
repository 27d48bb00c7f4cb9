"""The few fields of Stripe's objects that billing uses, as frozen records.

Nothing outside ``stripe_api`` sees the library's objects, so the rest of billing depends on
these fields only, whatever else a Stripe API version adds or moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import stripe
from stripe.billing_portal import Session as StripePortalSession
from stripe.checkout import Session as StripeCheckoutSession

from webhost.errors import Conflict


@dataclass(frozen=True, slots=True)
class StripeCustomer:
    id: str
    email: str | None


@dataclass(frozen=True, slots=True)
class CheckoutSession:
    id: str
    url: str | None  # null once the session is complete or expired
    status: str | None  # open, complete, expired
    customer_id: str | None
    subscription_id: str | None  # set once the customer has paid


@dataclass(frozen=True, slots=True)
class PortalSession:
    id: str
    url: str


@dataclass(frozen=True, slots=True)
class StripeSubscription:
    id: str
    customer_id: str
    status: str  # active, past_due, canceled, incomplete, ...
    item_id: str
    price_id: str
    current_period_end: datetime
    cancel_at_period_end: bool


@dataclass(frozen=True, slots=True)
class StripePrice:
    id: str
    active: bool
    currency: str
    unit_amount: int | None
    interval: str | None  # month, year, ...; None for a one-time price


def customer_record(customer: stripe.Customer) -> StripeCustomer:
    return StripeCustomer(id=customer.id, email=customer.email)


def checkout_record(session: StripeCheckoutSession) -> CheckoutSession:
    return CheckoutSession(
        id=session.id,
        url=session.url,
        status=session.status,
        customer_id=None if session.customer is None else _id_of(session.customer),
        subscription_id=None if session.subscription is None else _id_of(session.subscription),
    )


def portal_record(session: StripePortalSession) -> PortalSession:
    return PortalSession(id=session.id, url=session.url)


def subscription_record(subscription: stripe.Subscription) -> StripeSubscription:
    item = only_item(subscription)
    return StripeSubscription(
        id=subscription.id,
        customer_id=_id_of(subscription.customer),
        status=subscription.status,
        item_id=item.id,
        price_id=item.price.id,
        # the period belongs to the item since Stripe's 2025-03-31 API version
        current_period_end=datetime.fromtimestamp(item.current_period_end, UTC),
        cancel_at_period_end=subscription.cancel_at_period_end,
    )


def price_record(price: stripe.Price) -> StripePrice:
    return StripePrice(
        id=price.id,
        active=price.active,
        currency=price.currency,
        unit_amount=price.unit_amount,
        interval=price.recurring.interval if price.recurring else None,
    )


def only_item(subscription: stripe.Subscription) -> stripe.SubscriptionItem:
    """The subscription's one item: a plan is one price, so a subscription has one item."""
    items = subscription.items.data
    if len(items) != 1:
        raise Conflict(
            f"Stripe subscription {subscription.id} has {len(items)} items; "
            "the platform handles subscriptions of exactly one price"
        )
    return items[0]


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


def _id_of(field: str | _HasId) -> str:
    """The id of an expandable field, expanded or not."""
    return field if isinstance(field, str) else field.id

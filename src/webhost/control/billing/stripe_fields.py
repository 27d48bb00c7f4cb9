"""Fields of Stripe event objects, read the same way whatever API version sent them.

Newer API versions moved a subscription's period to its items and an invoice's subscription
under ``parent.subscription_details``; both places are read, newest first.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from webhost.control.billing.stripe_api import ORGANIZATION_METADATA_KEY

StripeObject = dict[str, Any]


def _items(subscription: StripeObject) -> list[StripeObject]:
    items = subscription.get("items")
    data = items.get("data") if isinstance(items, dict) else None
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def period_end(subscription: StripeObject) -> datetime | None:
    ends = [item.get("current_period_end") for item in _items(subscription)]
    ends.append(subscription.get("current_period_end"))
    for end in ends:
        if isinstance(end, int) and not isinstance(end, bool):
            return datetime.fromtimestamp(end, UTC)
    return None


def price_id(subscription: StripeObject) -> str | None:
    for item in _items(subscription):
        price = item.get("price")
        if isinstance(price, dict) and isinstance(price.get("id"), str):
            return str(price["id"])
    return None


def invoice_subscription(invoice: StripeObject) -> str | None:
    parent = invoice.get("parent")
    details = parent.get("subscription_details") if isinstance(parent, dict) else None
    if isinstance(details, dict) and isinstance(details.get("subscription"), str):
        return str(details["subscription"])
    legacy = invoice.get("subscription")
    return legacy if isinstance(legacy, str) else None


def organization_of(stripe_object: StripeObject) -> str | None:
    """The organization id the platform wrote into the object's metadata."""
    metadata = stripe_object.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get(ORGANIZATION_METADATA_KEY), str):
        return str(metadata[ORGANIZATION_METADATA_KEY])
    reference = stripe_object.get("client_reference_id")
    return reference if isinstance(reference, str) else None


def text(stripe_object: StripeObject, name: str) -> str | None:
    value = stripe_object.get(name)
    if isinstance(value, dict):  # an expanded object
        value = value.get("id")
    return value if isinstance(value, str) else None


def timestamp(stripe_object: StripeObject, name: str) -> datetime | None:
    value = stripe_object.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    return None

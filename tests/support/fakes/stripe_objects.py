"""Stripe's objects as its API returns them: customers, prices, sessions, events.

Only the fields a subscription integration reads are filled in, with Stripe's names, id
prefixes and types: timestamps are Unix seconds, amounts integers in the smallest currency unit,
references ids, ``livemode`` false.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

StripeObject = dict[str, Any]

_ID_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def customer(
    *, email: str | None, name: str | None, metadata: dict[str, str], now: int
) -> StripeObject:
    return {
        "id": new_id("cus_", 14),
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": now,
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "email": email,
        "invoice_prefix": new_id("", 8).upper(),
        "livemode": False,
        "metadata": metadata,
        "name": name,
        "phone": None,
        "preferred_locales": [],
        "tax_exempt": "none",
    }


def price(
    *,
    unit_amount: int,
    currency: str,
    interval: str | None,
    active: bool,
    price_id: str | None,
    now: int,
) -> StripeObject:
    recurring = (
        None
        if interval is None
        else {
            "interval": interval,
            "interval_count": 1,
            "meter": None,
            "trial_period_days": None,
            "usage_type": "licensed",
        }
    )
    return {
        "id": price_id or new_id("price_"),
        "object": "price",
        "active": active,
        "billing_scheme": "per_unit",
        "created": now,
        "currency": currency,
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": None,
        "metadata": {},
        "nickname": None,
        "product": new_id("prod_", 14),
        "recurring": recurring,
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "one_time" if interval is None else "recurring",
        "unit_amount": unit_amount,
        "unit_amount_decimal": str(unit_amount),
    }


def checkout_session(
    *,
    customer_id: str | None,
    line_items: list[tuple[StripeObject, int]],
    mode: str,
    success_url: str | None,
    cancel_url: str | None,
    client_reference_id: str | None,
    metadata: dict[str, str],
    now: int,
) -> StripeObject:
    session_id = new_id("cs_test_", 58)
    amount = sum(price["unit_amount"] * quantity for price, quantity in line_items)
    return {
        "id": session_id,
        "object": "checkout.session",
        "amount_subtotal": amount,
        "amount_total": amount,
        "cancel_url": cancel_url,
        "client_reference_id": client_reference_id,
        "created": now,
        "currency": line_items[0][0]["currency"],
        "customer": customer_id,
        "customer_email": None,
        "expires_at": now + 86_400,
        "invoice": None,
        "livemode": False,
        "metadata": metadata,
        "mode": mode,
        "payment_status": "unpaid",
        "status": "open",
        "subscription": None,
        "success_url": success_url,
        "ui_mode": "hosted_page",
        "url": f"https://checkout.stripe.com/c/pay/{session_id}",
    }


def portal_session(*, customer_id: str, return_url: str | None, now: int) -> StripeObject:
    return {
        "id": new_id("bps_"),
        "object": "billing_portal.session",
        "configuration": "bpc_fake_default",
        "created": now,
        "customer": customer_id,
        "flow": None,
        "livemode": False,
        "locale": None,
        "on_behalf_of": None,
        "return_url": return_url,
        "url": f"https://billing.stripe.com/p/session/test_{new_id('', 32)}",
    }


def event(
    event_type: str,
    data_object: StripeObject,
    *,
    api_version: str,
    now: int,
    previous_attributes: dict[str, Any] | None = None,
) -> StripeObject:
    data: dict[str, Any] = {"object": data_object}
    if previous_attributes is not None:
        data["previous_attributes"] = previous_attributes
    return {
        "id": new_id("evt_"),
        "object": "event",
        "api_version": api_version,
        "created": now,
        "data": data,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }

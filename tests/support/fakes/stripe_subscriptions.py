"""Subscriptions and their invoices as Stripe's API returns them (API 2025-03-31 and later:
billing periods belong to the items, an invoice names its subscription under ``parent``)."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

from tests.support.fakes.stripe_objects import StripeObject, new_id


def period_end(start: int, interval: str, count: int) -> int:
    """The end of a billing period: calendar months and years, the day kept where it exists."""
    if interval == "day":
        return start + count * 86_400
    if interval == "week":
        return start + count * 7 * 86_400
    months = count * (12 if interval == "year" else 1)
    begin = datetime.fromtimestamp(start, UTC)
    month_index = begin.month - 1 + months
    year, month = begin.year + month_index // 12, month_index % 12 + 1
    day = min(begin.day, calendar.monthrange(year, month)[1])
    return int(begin.replace(year=year, month=month, day=day).timestamp())


def subscription_item(
    *, subscription_id: str, price: StripeObject, quantity: int, start: int
) -> StripeObject:
    interval = price["recurring"]
    return {
        "id": new_id("si_", 14),
        "object": "subscription_item",
        "created": start,
        "current_period_start": start,
        "current_period_end": period_end(start, interval["interval"], interval["interval_count"]),
        "discounts": [],
        "metadata": {},
        "price": price,
        "quantity": quantity,
        "subscription": subscription_id,
        "tax_rates": [],
    }


def item_list(subscription_id: str, items: list[StripeObject]) -> StripeObject:
    return {
        "object": "list",
        "data": items,
        "has_more": False,
        "total_count": len(items),
        "url": f"/v1/subscription_items?subscription={subscription_id}",
    }


def subscription(
    *,
    customer_id: str,
    prices: list[tuple[StripeObject, int]],
    metadata: dict[str, str],
    now: int,
) -> StripeObject:
    subscription_id = new_id("sub_")
    items = [
        subscription_item(
            subscription_id=subscription_id, price=price, quantity=quantity, start=now
        )
        for price, quantity in prices
    ]
    return {
        "id": subscription_id,
        "object": "subscription",
        "billing_cycle_anchor": now,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "collection_method": "charge_automatically",
        "created": now,
        "currency": prices[0][0]["currency"],
        "customer": customer_id,
        "default_payment_method": None,
        "description": None,
        "ended_at": None,
        "items": item_list(subscription_id, items),
        "latest_invoice": None,
        "livemode": False,
        "metadata": metadata,
        "start_date": now,
        "status": "active",
        "trial_end": None,
        "trial_start": None,
    }


def invoice(
    *, subscription: StripeObject, billing_reason: str, paid: bool, now: int
) -> StripeObject:
    items = subscription["items"]["data"]
    invoice_id = new_id("in_")
    lines = [_invoice_line(invoice_id, subscription["id"], item) for item in items]
    total = sum(line["amount"] for line in lines)
    return {
        "id": invoice_id,
        "object": "invoice",
        "amount_due": total,
        "amount_paid": total if paid else 0,
        "amount_remaining": 0 if paid else total,
        "attempt_count": 1,
        "attempted": True,
        "billing_reason": billing_reason,
        "collection_method": "charge_automatically",
        "created": now,
        "currency": subscription["currency"],
        "customer": subscription["customer"],
        "hosted_invoice_url": f"https://invoice.stripe.com/i/acct_fake/test_{invoice_id}",
        "lines": {
            "object": "list",
            "data": lines,
            "has_more": False,
            "total_count": len(lines),
            "url": f"/v1/invoices/{invoice_id}/lines",
        },
        "livemode": False,
        "metadata": {},
        "next_payment_attempt": None if paid else now + 3 * 86_400,
        "parent": {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {
                "metadata": subscription["metadata"],
                "subscription": subscription["id"],
            },
        },
        "period_end": items[0]["current_period_end"],
        "period_start": items[0]["current_period_start"],
        "status": "paid" if paid else "open",
        "status_transitions": {"paid_at": now if paid else None, "finalized_at": now},
        "subtotal": total,
        "total": total,
    }


def _invoice_line(invoice_id: str, subscription_id: str, item: StripeObject) -> StripeObject:
    price = item["price"]
    return {
        "id": new_id("il_"),
        "object": "line_item",
        "amount": price["unit_amount"] * item["quantity"],
        "currency": price["currency"],
        "invoice": invoice_id,
        "livemode": False,
        "metadata": {},
        "parent": {
            "type": "subscription_item_details",
            "subscription_item_details": {
                "proration": False,
                "subscription": subscription_id,
                "subscription_item": item["id"],
            },
        },
        "period": {"start": item["current_period_start"], "end": item["current_period_end"]},
        "pricing": {
            "type": "price_details",
            "price_details": {"price": price["id"], "product": price["product"]},
            "unit_amount_decimal": price["unit_amount_decimal"],
        },
        "quantity": item["quantity"],
    }


def start_next_period(subscription: StripeObject) -> None:
    """Renewal: every item's period begins where the last one ended."""
    for item in subscription["items"]["data"]:
        recurring = item["price"]["recurring"]
        start = item["current_period_end"]
        item["current_period_start"] = start
        item["current_period_end"] = period_end(
            start, recurring["interval"], recurring["interval_count"]
        )

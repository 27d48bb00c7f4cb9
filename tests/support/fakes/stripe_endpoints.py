"""The Stripe API endpoints the platform calls, each checking its parameters as Stripe does
and answering with Stripe's objects. Called by ``stripe_server`` under the account's lock."""

from __future__ import annotations

import copy
from collections.abc import Callable

from tests.support.fakes import stripe_forms as forms
from tests.support.fakes import stripe_objects as objects
from tests.support.fakes import stripe_subscriptions as subscriptions
from tests.support.fakes.stripe_account import CheckoutTerms, StripeAccount
from tests.support.fakes.stripe_forms import Params, invalid, no_such
from tests.support.fakes.stripe_objects import StripeObject

# (account, parameters, the id in the URL or "") -> the object answered
Endpoint = Callable[[StripeAccount, Params, str], StripeObject]

PRORATION_BEHAVIORS = ("always_invoice", "create_prorations", "none")
CHECKOUT_MODES = ("payment", "setup", "subscription")


def create_customer(account: StripeAccount, params: Params, _: str) -> StripeObject:
    forms.refuse_unknown(params, {"description", "email", "metadata", "name", "phone"})
    name = forms.optional(params, "name")
    if name is not None and len(name) > 256:
        raise invalid("Invalid name: must be at most 256 characters", "name")
    customer = objects.customer(
        email=forms.email(forms.optional(params, "email"), "email"),
        name=name or None,
        metadata=forms.merged_metadata({}, forms.metadata(params)),
        now=account.now(),
    )
    customer.update(
        description=forms.optional(params, "description") or None,
        phone=forms.optional(params, "phone") or None,
    )
    account.customers[customer["id"]] = customer
    account.emit("customer.created", customer)
    return customer


def create_checkout_session(account: StripeAccount, params: Params, _: str) -> StripeObject:
    forms.refuse_unknown(
        params,
        {
            "cancel_url",
            "client_reference_id",
            "customer",
            "line_items",
            "metadata",
            "mode",
            "subscription_data",
            "success_url",
        },
    )
    mode = forms.one_of(forms.required(params, "mode"), "mode", CHECKOUT_MODES)
    if mode != "subscription":
        raise invalid(f"This fake Stripe implements mode=subscription only, not {mode}", "mode")
    customer_id = forms.optional(params, "customer")
    if customer_id is not None and customer_id not in account.customers:
        raise no_such("customer", customer_id, "customer")
    line_items = _checkout_line_items(account, params)
    reference = forms.optional(params, "client_reference_id")
    if reference is not None and len(reference) > 200:
        raise invalid(
            "Invalid client_reference_id: must be at most 200 characters", "client_reference_id"
        )
    subscription_data = forms.hash_of(params, "subscription_data")
    forms.refuse_unknown(subscription_data, {"description", "metadata"}, where="subscription_data")
    subscription_metadata = forms.metadata(subscription_data, where="subscription_data")
    session = objects.checkout_session(
        customer_id=customer_id,
        line_items=line_items,
        mode=mode,
        success_url=forms.url(forms.optional(params, "success_url"), "success_url"),
        cancel_url=forms.url(forms.optional(params, "cancel_url"), "cancel_url"),
        client_reference_id=reference or None,
        metadata=forms.merged_metadata({}, forms.metadata(params)),
        now=account.now(),
    )
    account.checkout_sessions[session["id"]] = session
    account.checkout_terms[session["id"]] = CheckoutTerms(
        line_items=line_items,
        subscription_metadata=forms.merged_metadata({}, subscription_metadata),
    )
    return session


def _checkout_line_items(account: StripeAccount, params: Params) -> list[tuple[StripeObject, int]]:
    entries = forms.list_of_hashes(params, "line_items")
    if not entries:
        raise invalid("Missing required param: line_items.", "line_items")
    line_items = []
    for index, entry in enumerate(entries):
        where = f"line_items[{index}]"
        forms.refuse_unknown(entry, {"price", "quantity"}, where=where)
        price = _active_price(account, forms.required(entry, "price", where=where), where)
        quantity = forms.optional(entry, "quantity", where=where)
        if quantity is None:
            raise invalid(
                f"Quantity is required. Add `quantity` to `{where}`", f"{where}[quantity]"
            )
        line_items.append((price, forms.integer(quantity, f"{where}[quantity]", minimum=1)))
    if not any(price["recurring"] for price, _ in line_items):
        raise invalid(
            "You must provide at least one recurring price in `subscription` mode when using "
            "prices.",
            "line_items",
        )
    if len({price["currency"] for price, _ in line_items}) > 1:
        raise invalid(
            "All prices on a Checkout Session must be in the same currency.", "line_items"
        )
    return line_items


def _active_price(account: StripeAccount, price_id: str, where: str) -> StripeObject:
    param = forms.qualified(where, "price")
    price = account.prices.get(price_id)
    if price is None:
        raise no_such("price", price_id, param)
    if not price["active"]:
        raise invalid(
            "The price specified is inactive. This field only accepts active prices.", param
        )
    return price


def retrieve_checkout_session(
    account: StripeAccount, params: Params, session_id: str
) -> StripeObject:
    forms.refuse_unknown(params, set())
    return account.find(account.checkout_sessions, "checkout.session", session_id)


def create_portal_session(account: StripeAccount, params: Params, _: str) -> StripeObject:
    forms.refuse_unknown(params, {"customer", "locale", "return_url"})
    customer_id = forms.required(params, "customer")
    if customer_id not in account.customers:
        raise no_such("customer", customer_id, "customer")
    session = objects.portal_session(
        customer_id=customer_id,
        return_url=forms.url(forms.optional(params, "return_url"), "return_url"),
        now=account.now(),
    )
    session["locale"] = forms.optional(params, "locale") or None
    account.portal_sessions[session["id"]] = session
    return session


def retrieve_subscription(
    account: StripeAccount, params: Params, subscription_id: str
) -> StripeObject:
    forms.refuse_unknown(params, set())
    return account.find(account.subscriptions, "subscription", subscription_id)


def update_subscription(
    account: StripeAccount, params: Params, subscription_id: str
) -> StripeObject:
    subscription = account.find(account.subscriptions, "subscription", subscription_id)
    forms.refuse_unknown(
        params, {"cancel_at_period_end", "description", "items", "metadata", "proration_behavior"}
    )
    if subscription["status"] == "canceled" and set(params) - {"metadata"}:
        raise invalid(
            "A canceled subscription can only update its cancellation_details and metadata."
        )
    behavior = forms.optional(params, "proration_behavior")
    if behavior is not None:
        forms.one_of(behavior, "proration_behavior", PRORATION_BEHAVIORS)
    items = _updated_items(account, subscription, forms.list_of_hashes(params, "items"))
    cancel = forms.optional(params, "cancel_at_period_end")
    cancel_at_period_end = None if cancel is None else forms.boolean(cancel, "cancel_at_period_end")
    metadata = forms.metadata(params)
    # every parameter is valid: the update happens as a whole
    before = copy.deepcopy(subscription)
    subscription["items"] = subscriptions.item_list(subscription_id, items)
    if cancel_at_period_end is not None:
        ends = items[0]["current_period_end"]
        subscription.update(
            cancel_at_period_end=cancel_at_period_end,
            cancel_at=ends if cancel_at_period_end else None,
            canceled_at=account.now() if cancel_at_period_end else None,
        )
    subscription["metadata"] = forms.merged_metadata(subscription["metadata"], metadata)
    if "description" in params:
        subscription["description"] = forms.optional(params, "description") or None
    account.changed(before, subscription)
    return subscription


def _updated_items(
    account: StripeAccount, subscription: StripeObject, changes: list[Params]
) -> list[StripeObject]:
    """The subscription's items after ``items[n]`` changes: by id an item changes price or
    quantity or is deleted; without an id a new item is added for the same period."""
    items: list[StripeObject] = copy.deepcopy(subscription["items"]["data"])
    by_id = {item["id"]: item for item in items}
    for index, change in enumerate(changes):
        where = f"items[{index}]"
        forms.refuse_unknown(change, {"deleted", "id", "price", "quantity"}, where=where)
        item_id = forms.optional(change, "id", where=where)
        price_id = forms.optional(change, "price", where=where)
        quantity = forms.optional(change, "quantity", where=where)
        deleted = forms.optional(change, "deleted", where=where)
        if item_id is not None:
            item = by_id.get(item_id)
            if item is None:
                raise no_such("subscription_item", item_id, f"{where}[id]")
            if deleted is not None and forms.boolean(deleted, f"{where}[deleted]"):
                items.remove(item)
                continue
        elif price_id is None:
            raise invalid(f"Missing required param: {where}[price].", f"{where}[price]")
        else:
            item = subscriptions.subscription_item(
                subscription_id=subscription["id"],
                price=_active_price(account, price_id, where),
                quantity=1,
                start=items[0]["current_period_start"],
            )
            item["current_period_end"] = items[0]["current_period_end"]
            items.append(item)
        if price_id is not None:
            item["price"] = _active_price(account, price_id, where)
        if quantity is not None:
            item["quantity"] = forms.integer(quantity, f"{where}[quantity]", minimum=0)
    _check_items(items)
    return items


def _check_items(items: list[StripeObject]) -> None:
    if not items:
        raise invalid("A subscription must have at least one item.", "items")
    prices = [item["price"] for item in items]
    if any(price["recurring"] is None for price in prices):
        raise invalid("Subscription items must use recurring prices.", "items")
    if len({price["id"] for price in prices}) < len(prices):
        raise invalid("Cannot add multiple subscription items with the same price.", "items")
    intervals = {(price["currency"], price["recurring"]["interval"]) for price in prices}
    if len(intervals) > 1:
        raise invalid(
            "Currency and interval fields must match across all prices on this subscription.",
            "items",
        )


def retrieve_price(account: StripeAccount, params: Params, price_id: str) -> StripeObject:
    forms.refuse_unknown(params, set())
    return account.find(account.prices, "price", price_id)

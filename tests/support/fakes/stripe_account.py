"""One fake Stripe account in memory: its objects, the events it sends, and what Stripe does
on its own side (a customer paying at Checkout, a renewal failing, a cancellation).

Both the HTTP endpoints (on the server's thread) and the test (on its own) change it, always
under ``lock``. Events hold snapshots: an object changed later does not change an event sent.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import stripe

from tests.support.fakes import stripe_objects as objects
from tests.support.fakes import stripe_subscriptions as subscriptions
from tests.support.fakes.stripe_forms import no_such
from tests.support.fakes.stripe_objects import StripeObject


@dataclass
class CheckoutTerms:
    """What a Checkout session will subscribe to once paid (not part of the session object)."""

    line_items: list[tuple[StripeObject, int]]
    subscription_metadata: dict[str, str]


@dataclass
class StripeAccount:
    secret_key: str
    api_version: str = stripe.api_version
    clock: Callable[[], float] = time.time
    customers: dict[str, StripeObject] = field(default_factory=dict)
    prices: dict[str, StripeObject] = field(default_factory=dict)
    checkout_sessions: dict[str, StripeObject] = field(default_factory=dict)
    checkout_terms: dict[str, CheckoutTerms] = field(default_factory=dict)
    portal_sessions: dict[str, StripeObject] = field(default_factory=dict)
    subscriptions: dict[str, StripeObject] = field(default_factory=dict)
    invoices: dict[str, StripeObject] = field(default_factory=dict)
    events: list[StripeObject] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def now(self) -> int:
        return int(self.clock())

    def emit(
        self,
        event_type: str,
        data_object: StripeObject,
        previous_attributes: dict[str, Any] | None = None,
    ) -> StripeObject:
        event = objects.event(
            event_type,
            copy.deepcopy(data_object),
            api_version=self.api_version,
            now=self.now(),
            previous_attributes=previous_attributes,
        )
        self.events.append(event)
        return event

    def changed(self, before: StripeObject, after: StripeObject) -> list[StripeObject]:
        """``customer.subscription.updated`` with the previous values, when anything changed."""
        previous = {key: value for key, value in before.items() if after.get(key) != value}
        if not previous:
            return []
        return [self.emit("customer.subscription.updated", after, previous)]

    def find(self, store: dict[str, StripeObject], kind: str, object_id: str) -> StripeObject:
        """An object named in the URL: 404 resource_missing when there is none."""
        found = store.get(object_id)
        if found is None:
            raise no_such(kind, object_id, "id", status=404)
        return found

    # what tests set up, and what Stripe does without being asked by the platform

    def add_price(
        self,
        unit_amount: int,
        *,
        currency: str = "eur",
        interval: str | None = "month",
        active: bool = True,
        price_id: str | None = None,
    ) -> StripeObject:
        with self.lock:
            price = objects.price(
                unit_amount=unit_amount,
                currency=currency,
                interval=interval,
                active=active,
                price_id=price_id,
                now=self.now(),
            )
            self.prices[price["id"]] = price
            return copy.deepcopy(price)

    def complete_checkout(self, session_id: str) -> list[StripeObject]:
        """The customer pays: the subscription starts, its first invoice is paid."""
        with self.lock:
            session = self._known(self.checkout_sessions, "checkout session", session_id)
            if session["status"] != "open":
                raise ValueError(f"checkout session {session_id} is {session['status']}, not open")
            terms = self.checkout_terms[session_id]
            subscription = subscriptions.subscription(
                customer_id=session["customer"],
                prices=terms.line_items,
                metadata=dict(terms.subscription_metadata),
                now=self.now(),
            )
            invoice = subscriptions.invoice(
                subscription=subscription,
                billing_reason="subscription_create",
                paid=True,
                now=self.now(),
            )
            subscription["latest_invoice"] = invoice["id"]
            self.subscriptions[subscription["id"]] = subscription
            self.invoices[invoice["id"]] = invoice
            session.update(
                status="complete",
                payment_status="paid",
                subscription=subscription["id"],
                invoice=invoice["id"],
                url=None,
            )
            return [
                self.emit("checkout.session.completed", session),
                self.emit("customer.subscription.created", subscription),
                self.emit("invoice.paid", invoice),
            ]

    def fail_payment(self, subscription_id: str) -> list[StripeObject]:
        """A renewal's payment fails (or the open invoice's retry does): ``past_due``."""
        with self.lock:
            subscription = self._live(subscription_id)
            before = copy.deepcopy(subscription)
            invoice = self._open_invoice(subscription)
            if invoice is None:
                invoice = self._renew(subscription, paid=False)
            else:
                invoice["attempt_count"] += 1
            subscription["status"] = "past_due"
            failed = self.emit("invoice.payment_failed", invoice)
            return [failed, *self.changed(before, subscription)]

    def pay_invoice(self, subscription_id: str) -> list[StripeObject]:
        """The open invoice is paid (or, with none open, a renewal is): ``active`` again."""
        with self.lock:
            subscription = self._live(subscription_id)
            before = copy.deepcopy(subscription)
            invoice = self._open_invoice(subscription)
            if invoice is None:
                invoice = self._renew(subscription, paid=True)
            else:
                invoice["attempt_count"] += 1
                invoice.update(
                    status="paid",
                    amount_paid=invoice["amount_due"],
                    amount_remaining=0,
                    next_payment_attempt=None,
                )
                invoice["status_transitions"]["paid_at"] = self.now()
            subscription["status"] = "active"
            paid = self.emit("invoice.paid", invoice)
            return [paid, *self.changed(before, subscription)]

    def cancel(self, subscription_id: str, *, at_period_end: bool = True) -> list[StripeObject]:
        """The customer cancels (in the portal, say): at the period's end, or at once."""
        with self.lock:
            subscription = self._live(subscription_id)
            before = copy.deepcopy(subscription)
            subscription["canceled_at"] = self.now()
            if at_period_end:
                period_ends = subscription["items"]["data"][0]["current_period_end"]
                subscription.update(cancel_at_period_end=True, cancel_at=period_ends)
                return self.changed(before, subscription)
            subscription.update(status="canceled", ended_at=self.now())
            return [self.emit("customer.subscription.deleted", subscription)]

    def _known(self, store: dict[str, StripeObject], kind: str, object_id: str) -> StripeObject:
        found = store.get(object_id)
        if found is None:
            raise ValueError(f"the fake Stripe account has no {kind} {object_id}")
        return found

    def _live(self, subscription_id: str) -> StripeObject:
        subscription = self._known(self.subscriptions, "subscription", subscription_id)
        if subscription["status"] == "canceled":
            raise ValueError(f"subscription {subscription_id} is canceled")
        return subscription

    def _open_invoice(self, subscription: StripeObject) -> StripeObject | None:
        invoice = self.invoices.get(subscription["latest_invoice"] or "")
        return invoice if invoice is not None and invoice["status"] == "open" else None

    def _renew(self, subscription: StripeObject, *, paid: bool) -> StripeObject:
        subscriptions.start_next_period(subscription)
        invoice = subscriptions.invoice(
            subscription=subscription,
            billing_reason="subscription_cycle",
            paid=paid,
            now=self.now(),
        )
        self.invoices[invoice["id"]] = invoice
        subscription["latest_invoice"] = invoice["id"]
        return invoice

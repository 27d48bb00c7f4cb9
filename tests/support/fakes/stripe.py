"""A fake Stripe API for tests, served over TCP and driven by the real ``stripe`` library.

It implements the endpoints billing calls (customers, Checkout sessions, billing portal
sessions, subscriptions, prices) with Stripe's object shapes, bracket-notation form bodies,
error bodies and statuses, API keys and idempotency keys. Tests register prices, then act as
Stripe's side: ``complete_checkout`` (the customer pays), ``fail_payment``, ``pay_invoice``,
``cancel``; each returns the events Stripe would send, which ``sign`` turns into a webhook
delivery. Stripe does not promise any order of events; these come in a fixed one.

    with FakeStripe() as fake:
        price = fake.add_price(900)
        api = StripeApi(fake.secret_key, api_base=fake.url)
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from starlette.types import ASGIApp

from tests.support.fakes.stripe_account import StripeAccount
from tests.support.fakes.stripe_objects import StripeObject, new_id
from tests.support.fakes.stripe_server import RecordedRequest, StripeServer
from tests.support.servers import ServedApp


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header Stripe sends with ``payload``: ``t=<unix>,v1=<hex>``,
    an HMAC-SHA256 with the endpoint's secret over ``"<t>.<payload>"``."""
    signed_at = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{signed_at}.".encode() + payload, hashlib.sha256)
    return f"t={signed_at},v1={digest.hexdigest()}"


class FakeStripe:
    def __init__(
        self, secret_key: str | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.account = StripeAccount(secret_key or new_id("sk_test_", 32), clock=clock)
        self.server = StripeServer(self.account)
        self._served: ServedApp | None = None

    @property
    def secret_key(self) -> str:
        return self.account.secret_key

    @property
    def url(self) -> str:
        """The API base to give the client (``base_addresses={"api": url}``)."""
        assert self._served is not None, "start the fake first"
        return self._served.url

    def start(self) -> FakeStripe:
        async def build() -> ASGIApp:
            return self.server.app()

        self._served = ServedApp(build).start()
        return self

    def stop(self) -> None:
        if self._served is not None:
            self._served.stop()

    def __enter__(self) -> FakeStripe:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # what the fake saw and holds

    @property
    def requests(self) -> list[RecordedRequest]:
        with self.account.lock:
            return list(self.server.requests)

    @property
    def events(self) -> list[StripeObject]:
        with self.account.lock:
            return copy.deepcopy(self.account.events)

    def customers(self) -> list[StripeObject]:
        with self.account.lock:
            return copy.deepcopy(list(self.account.customers.values()))

    def subscription(self, subscription_id: str) -> StripeObject:
        with self.account.lock:
            return copy.deepcopy(self.account.subscriptions[subscription_id])

    # what tests make happen

    def add_price(self, unit_amount: int, **fields: Any) -> StripeObject:
        """A price in the account (``currency``, ``interval`` (None: one-time), ``active``,
        ``price_id``)."""
        return self.account.add_price(unit_amount, **fields)

    def fail_next(self, status: int, *, times: int = 1, should_retry: bool | None = None) -> None:
        self.server.fail_next(status, times=times, should_retry=should_retry)

    def complete_checkout(self, session_id: str) -> list[StripeObject]:
        """``checkout.session.completed``, ``customer.subscription.created``, ``invoice.paid``."""
        return self.account.complete_checkout(session_id)

    def fail_payment(self, subscription_id: str) -> list[StripeObject]:
        """``invoice.payment_failed`` and ``customer.subscription.updated`` (``past_due``)."""
        return self.account.fail_payment(subscription_id)

    def pay_invoice(self, subscription_id: str) -> list[StripeObject]:
        """``invoice.paid`` and ``customer.subscription.updated`` (``active``)."""
        return self.account.pay_invoice(subscription_id)

    def cancel(self, subscription_id: str, *, at_period_end: bool = True) -> list[StripeObject]:
        """``customer.subscription.updated`` (at the period's end) or ``...deleted`` (now)."""
        return self.account.cancel(subscription_id, at_period_end=at_period_end)

    sign = staticmethod(sign)

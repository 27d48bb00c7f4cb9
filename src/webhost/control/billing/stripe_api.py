"""The platform's one Stripe client: the calls billing makes, answered with small records.

Requests go through Stripe's own library (``StripeClient`` over httpx, async), which sends the
API version it is built for, form-encodes bodies, puts an idempotency key on every POST and
retries network failures and Stripe's 409/5xx answers with the same key.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from types import TracebackType
from typing import TypeVar

import stripe

from webhost.control.billing.stripe_errors import billing_error
from webhost.control.billing.stripe_objects import (
    CheckoutSession,
    PortalSession,
    StripeCustomer,
    StripePrice,
    StripeSubscription,
    checkout_record,
    customer_record,
    only_item,
    portal_record,
    price_record,
    subscription_record,
)
from webhost.errors import ConfigurationError

T = TypeVar("T")

# metadata key naming the organization on every object the platform creates in Stripe
ORGANIZATION_METADATA_KEY = "webhost_organization"
NETWORK_RETRIES = 2
TIMEOUT_SECONDS = 30.0


class StripeApi:
    """Use as ``async with StripeApi(key) as api``; it holds an httpx connection pool."""

    def __init__(
        self,
        secret_key: str,
        *,
        api_base: str | None = None,
        timeout_seconds: float = TIMEOUT_SECONDS,
    ) -> None:
        if not secret_key.strip():
            raise ConfigurationError("a Stripe secret key is required for billing")
        self._secret_key = secret_key
        self._http = stripe.HTTPXClient(timeout=timeout_seconds)
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=NETWORK_RETRIES,
            http_client=self._http,
        )

    def __repr__(self) -> str:
        return "StripeApi()"

    async def __aenter__(self) -> StripeApi:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]  # unannotated upstream

    async def create_customer(
        self, email: str, name: str, organization_id: uuid.UUID
    ) -> StripeCustomer:
        """The organization's customer; a repeated call within Stripe's 24 hours of keeping
        idempotency keys answers with the same customer instead of making another."""
        organization = str(organization_id)
        customer = await self._call(
            self._client.v1.customers.create_async(
                {
                    "email": email,
                    "name": name,
                    "metadata": {ORGANIZATION_METADATA_KEY: organization},
                },
                {"idempotency_key": f"webhost-customer-{organization}"},
            )
        )
        return customer_record(customer)

    async def create_checkout_session(
        self,
        customer_id: str,
        price_id: str,
        organization_id: uuid.UUID,
        success_url: str,
        cancel_url: str,
    ) -> CheckoutSession:
        """A hosted Checkout page that subscribes the customer to ``price_id``."""
        organization = str(organization_id)
        metadata = {ORGANIZATION_METADATA_KEY: organization}
        session = await self._call(
            self._client.v1.checkout.sessions.create_async(
                {
                    "mode": "subscription",
                    "customer": customer_id,
                    "line_items": [{"price": price_id, "quantity": 1}],
                    "success_url": success_url,
                    "cancel_url": cancel_url,
                    "client_reference_id": organization,
                    "metadata": metadata,
                    "subscription_data": {"metadata": metadata},
                }
            )
        )
        return checkout_record(session)

    async def retrieve_checkout_session(self, session_id: str) -> CheckoutSession:
        session = await self._call(self._client.v1.checkout.sessions.retrieve_async(session_id))
        return checkout_record(session)

    async def create_portal_session(self, customer_id: str, return_url: str) -> PortalSession:
        """A short-lived link to Stripe's customer portal (payment methods, invoices)."""
        session = await self._call(
            self._client.v1.billing_portal.sessions.create_async(
                {"customer": customer_id, "return_url": return_url}
            )
        )
        return portal_record(session)

    async def retrieve_subscription(self, subscription_id: str) -> StripeSubscription:
        subscription = await self._call(
            self._client.v1.subscriptions.retrieve_async(subscription_id)
        )
        return subscription_record(subscription)

    async def change_subscription_price(
        self, subscription_id: str, price_id: str
    ) -> StripeSubscription:
        """Move the subscription's one item to ``price_id``; Stripe prorates the rest of the
        period on the next invoice. Moving to the price it already has changes nothing."""
        subscription = await self._call(
            self._client.v1.subscriptions.retrieve_async(subscription_id)
        )
        item = only_item(subscription)
        if item.price.id == price_id:
            return subscription_record(subscription)
        updated = await self._call(
            self._client.v1.subscriptions.update_async(
                subscription_id,
                {
                    "items": [{"id": item.id, "price": price_id}],
                    "proration_behavior": "create_prorations",
                },
            )
        )
        return subscription_record(updated)

    async def cancel_subscription_at_period_end(self, subscription_id: str) -> StripeSubscription:
        """The subscription stays active until the end of the period that is paid for."""
        subscription = await self._call(
            self._client.v1.subscriptions.update_async(
                subscription_id, {"cancel_at_period_end": True}
            )
        )
        return subscription_record(subscription)

    async def retrieve_price(self, price_id: str) -> StripePrice:
        price = await self._call(self._client.v1.prices.retrieve_async(price_id))
        return price_record(price)

    async def _call(self, request: Awaitable[T]) -> T:
        try:
            return await request
        except stripe.StripeError as error:
            # not chained: the library's error holds the raw response, which may quote the key
            raise billing_error(error, secret_key=self._secret_key) from None

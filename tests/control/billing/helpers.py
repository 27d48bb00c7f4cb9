"""Running StripeApi calls against the fake, and the data they need."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from tests.support.fakes.stripe import FakeStripe
from webhost.control.billing.stripe_api import StripeApi
from webhost.control.billing.stripe_objects import CheckoutSession, StripeCustomer

T = TypeVar("T")

SUCCESS_URL = "https://webhost.example/billing/done?session={CHECKOUT_SESSION_ID}"
CANCEL_URL = "https://webhost.example/billing/cancelled"


def with_api(
    fake: FakeStripe,
    scenario: Callable[[StripeApi], Awaitable[T]],
    *,
    secret_key: str | None = None,
    api_base: str | None = None,
) -> T:
    """Run ``scenario`` with a client of its own loop (its connection pool belongs to it)."""

    async def run() -> T:
        async with StripeApi(secret_key or fake.secret_key, api_base=api_base or fake.url) as api:
            return await scenario(api)

    return asyncio.run(run())


async def new_customer(api: StripeApi, organization_id: uuid.UUID | None = None) -> StripeCustomer:
    organization = organization_id or uuid.uuid4()
    return await api.create_customer(f"{organization.hex[:8]}@example.com", "Ada", organization)


async def new_checkout(
    api: StripeApi, price: dict[str, Any], organization_id: uuid.UUID | None = None
) -> CheckoutSession:
    organization = organization_id or uuid.uuid4()
    customer = await new_customer(api, organization)
    return await api.create_checkout_session(
        customer.id, price["id"], organization, SUCCESS_URL, CANCEL_URL
    )


def subscribed(fake: FakeStripe, price: dict[str, Any]) -> str:
    """A subscription to ``price``, paid at Checkout; returns its id."""
    session = with_api(fake, lambda api: new_checkout(api, price))
    events = fake.complete_checkout(session.id)
    subscription_id: str = events[1]["data"]["object"]["id"]
    return subscription_id

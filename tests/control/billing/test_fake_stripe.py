"""The fake holds to Stripe's rules, so tests that pass against it say something about Stripe."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest
import stripe

from tests.support.fakes.stripe import FakeStripe
from tests.support.fakes.stripe_forms import StripeFailure, parse_form

T = TypeVar("T")


def with_client(fake: FakeStripe, call: Callable[[stripe.StripeClient], Awaitable[T]]) -> T:
    """``call`` with the library's own client, without the platform's wrapper."""

    async def run() -> T:
        http = stripe.HTTPXClient()
        client = stripe.StripeClient(
            fake.secret_key, base_addresses={"api": fake.url}, http_client=http
        )
        try:
            return await call(client)
        finally:
            await http.close_async()  # type: ignore[no-untyped-call]

    return asyncio.run(run())


def test_brackets_nest_hashes_and_arrays() -> None:
    parsed = parse_form(
        "items[0][id]=si_1&items[0][price]=price_1&items[1][price]=price_2"
        "&metadata[a]=1&expand[]=x&expand[]=y&name=&subscription_data[metadata][k]=v"
    )

    assert parsed == {
        "items": [{"id": "si_1", "price": "price_1"}, {"price": "price_2"}],
        "metadata": {"a": "1"},
        "expand": ["x", "y"],
        "name": "",
        "subscription_data": {"metadata": {"k": "v"}},
    }


@pytest.mark.parametrize(
    ("form", "param"),
    [
        ("items[0][id]=a&items[2][id]=b", "items"),
        ("metadata=x&metadata[a]=b", "metadata[a]"),
        ("metadata[a]=b&metadata=x", "metadata"),
        ("a[b=c", "a[b"),
        ("[x]=1", "[x]"),
    ],
)
def test_bad_brackets_are_refused_naming_the_parameter(form: str, param: str) -> None:
    with pytest.raises(StripeFailure) as raised:
        parse_form(form)

    assert raised.value.status == 400
    assert raised.value.param == param


def test_an_unknown_parameter_is_refused(fake_stripe: FakeStripe) -> None:
    misspelt: Any = {"nam": "x"}

    with pytest.raises(stripe.InvalidRequestError) as raised:
        with_client(fake_stripe, lambda client: client.v1.customers.create_async(misspelt))

    assert raised.value.http_status == 400
    assert raised.value.param == "nam"
    assert "Received unknown parameter: nam" in str(raised.value)


def test_a_missing_parameter_is_refused(fake_stripe: FakeStripe) -> None:
    with pytest.raises(stripe.InvalidRequestError, match=r"Missing required param: mode\."):
        with_client(
            fake_stripe,
            lambda client: client.v1.checkout.sessions.create_async(
                {"success_url": "https://a.b/"}
            ),
        )


def test_a_missing_object_is_404_resource_missing(fake_stripe: FakeStripe) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        with_client(fake_stripe, lambda client: client.v1.subscriptions.retrieve_async("sub_x"))

    assert raised.value.http_status == 404
    assert raised.value.code == "resource_missing"
    assert raised.value.param == "id"


def test_an_idempotency_key_reused_with_other_parameters_is_refused(
    fake_stripe: FakeStripe,
) -> None:
    async def reuse(client: stripe.StripeClient) -> None:
        options: Any = {"idempotency_key": "same-key"}
        await client.v1.customers.create_async({"name": "Ada"}, options)
        await client.v1.customers.create_async({"name": "Grace"}, options)

    with pytest.raises(stripe.IdempotencyError, match="same-key"):
        with_client(fake_stripe, reuse)
    assert len(fake_stripe.customers()) == 1


def test_a_refused_parameter_does_not_keep_the_idempotency_key(fake_stripe: FakeStripe) -> None:
    async def retry_fixed(client: stripe.StripeClient) -> str:
        options: Any = {"idempotency_key": "fixed-later"}
        with pytest.raises(stripe.InvalidRequestError):
            await client.v1.customers.create_async({"email": "not an email"}, options)
        customer = await client.v1.customers.create_async({"email": "a@b.example"}, options)
        return customer.id

    assert with_client(fake_stripe, retry_fixed).startswith("cus_")


def test_requests_need_the_accounts_key(fake_stripe: FakeStripe) -> None:
    anonymous = httpx.get(f"{fake_stripe.url}/v1/prices/price_x")
    wrong = httpx.get(
        f"{fake_stripe.url}/v1/prices/price_x",
        headers={"Authorization": "Bearer sk_test_0000000000000000wxyz"},
    )

    assert anonymous.status_code == wrong.status_code == 401
    assert anonymous.json()["error"]["type"] == "invalid_request_error"
    assert "did not provide an API key" in anonymous.json()["error"]["message"]
    masked = "sk_test_" + "*" * 16 + "wxyz"
    assert wrong.json()["error"]["message"] == f"Invalid API Key provided: {masked}"


def test_an_unknown_url_is_refused(fake_stripe: FakeStripe) -> None:
    response = httpx.post(
        f"{fake_stripe.url}/v1/charges",
        headers={"Authorization": f"Bearer {fake_stripe.secret_key}"},
    )

    assert response.status_code == 404
    assert "Unrecognized request URL (POST: /v1/charges)" in response.json()["error"]["message"]


def test_a_body_that_is_not_a_form_is_refused(fake_stripe: FakeStripe) -> None:
    response = httpx.post(
        f"{fake_stripe.url}/v1/customers",
        headers={"Authorization": f"Bearer {fake_stripe.secret_key}"},
        json={"name": "Ada"},
    )

    assert response.status_code == 400
    assert "x-www-form-urlencoded" in response.json()["error"]["message"]


def test_subscription_items_must_share_an_interval(fake_stripe: FakeStripe) -> None:
    monthly = fake_stripe.add_price(900)
    yearly = fake_stripe.add_price(9000, interval="year")

    async def checkout_and_add(client: stripe.StripeClient) -> None:
        customer = await client.v1.customers.create_async({"name": "Ada"})
        created = await client.v1.checkout.sessions.create_async(
            {
                "mode": "subscription",
                "customer": customer.id,
                "line_items": [{"price": monthly["id"], "quantity": 1}],
            }
        )
        [_, subscription_event, _] = fake_stripe.complete_checkout(created.id)
        subscription_id = subscription_event["data"]["object"]["id"]
        await client.v1.subscriptions.update_async(
            subscription_id, {"items": [{"price": yearly["id"]}]}
        )

    with pytest.raises(stripe.InvalidRequestError, match="interval"):
        with_client(fake_stripe, checkout_and_add)

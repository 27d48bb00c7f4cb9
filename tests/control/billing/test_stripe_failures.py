from __future__ import annotations

import uuid

import pytest
from structlog.testing import capture_logs

from tests.control.billing.helpers import new_checkout, new_customer, with_api
from tests.support.fakes.stripe import FakeStripe
from tests.support.servers import free_port
from webhost.control.billing.errors import BillingUnavailable
from webhost.control.billing.stripe_api import NETWORK_RETRIES, StripeApi


def test_a_refused_key_is_reported_without_the_key(fake_stripe: FakeStripe) -> None:
    wrong_key = f"sk_test_{uuid.uuid4().hex}WRONG"

    with capture_logs() as logs, pytest.raises(BillingUnavailable) as raised:
        with_api(fake_stripe, new_customer, secret_key=wrong_key)

    error = raised.value
    assert error.status_code == 503
    assert "secret key" in error.message
    assert int(error.headers["Retry-After"]) >= 1
    [answer] = fake_stripe.requests
    assert answer.status == 401
    # Stripe quotes the key masked (prefix and last four); neither form may reach us
    quoted = [error.message, str(error), repr(error), repr(error.details), repr(logs)]
    for text in quoted:
        assert wrong_key not in text
        assert "sk_test_" not in text
        assert wrong_key[-4:] not in text
    assert error.__cause__ is None
    assert error.__suppress_context__


def test_a_rate_limit_is_not_retried_and_asks_to_come_back(fake_stripe: FakeStripe) -> None:
    # the library retries only 409, 5xx and network failures unless Stripe-Should-Retry says so
    price = fake_stripe.add_price(900)
    fake_stripe.fail_next(429)

    with pytest.raises(BillingUnavailable, match="rate limiting") as raised:
        with_api(fake_stripe, lambda api: api.retrieve_price(price["id"]))

    assert raised.value.headers["Retry-After"]
    assert [request.status for request in fake_stripe.requests] == [429]


def test_a_rate_limit_stripe_marks_retryable_is_retried(fake_stripe: FakeStripe) -> None:
    price = fake_stripe.add_price(900)
    fake_stripe.fail_next(429, should_retry=True)

    read = with_api(fake_stripe, lambda api: api.retrieve_price(price["id"]))

    assert read.id == price["id"]
    assert [request.status for request in fake_stripe.requests] == [429, 200]


def test_a_passing_outage_is_retried_with_the_same_idempotency_key(
    fake_stripe: FakeStripe,
) -> None:
    price = fake_stripe.add_price(900)

    async def checkout_through_an_outage(api: StripeApi) -> str:
        customer = await new_customer(api)
        fake_stripe.fail_next(503)
        session = await api.create_checkout_session(
            customer.id, price["id"], uuid.uuid4(), "https://a.example/", "https://b.example/"
        )
        return session.id

    session_id = with_api(fake_stripe, checkout_through_an_outage)

    failed, succeeded = fake_stripe.requests[-2:]
    assert (failed.status, succeeded.status) == (503, 200)
    assert failed.idempotency_key is not None
    assert failed.idempotency_key == succeeded.idempotency_key
    assert session_id in fake_stripe.account.checkout_sessions
    assert len(fake_stripe.account.checkout_sessions) == 1


def test_an_outage_that_outlasts_the_retries_asks_to_come_back(fake_stripe: FakeStripe) -> None:
    price = fake_stripe.add_price(900)
    fake_stripe.fail_next(500, times=NETWORK_RETRIES + 1)

    with pytest.raises(BillingUnavailable, match="could not complete"):
        with_api(fake_stripe, lambda api: new_checkout(api, price))

    assert [request.status for request in fake_stripe.requests] == [500] * (NETWORK_RETRIES + 1)
    assert fake_stripe.customers() == []


def test_an_unreachable_stripe_asks_to_come_back(fake_stripe: FakeStripe) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"

    with pytest.raises(BillingUnavailable, match="could not be reached") as raised:
        with_api(fake_stripe, new_customer, api_base=nowhere)

    assert raised.value.headers["Retry-After"]


def test_the_client_does_not_show_its_key() -> None:
    api = StripeApi("sk_test_shown_nowhere")

    assert "sk_test" not in repr(api)

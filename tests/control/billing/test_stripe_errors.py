from __future__ import annotations

import pytest
import stripe

from tests.control.billing.helpers import with_api
from tests.support.fakes.stripe import FakeStripe
from webhost.control.billing.errors import BillingUnavailable, PaymentDeclined
from webhost.control.billing.stripe_errors import billing_error
from webhost.errors import NotFound

KEY = "sk_live_51Habcdefghijklmnop"


def test_a_message_quoting_the_key_is_scrubbed(fake_stripe: FakeStripe) -> None:
    # an id pasted from the wrong field comes back inside Stripe's message
    with pytest.raises(NotFound) as raised:
        with_api(fake_stripe, lambda api: api.retrieve_subscription(fake_stripe.secret_key))

    assert fake_stripe.secret_key not in raised.value.message
    assert "No such subscription: '[redacted]'" in raised.value.message


def test_keys_of_any_kind_are_scrubbed() -> None:
    error = stripe.InvalidRequestError(  # type: ignore[no-untyped-call]  # unannotated upstream
        f"Keys {KEY}, rk_test_abc and sk_test_****1234 do not belong here", param="customer"
    )

    refused = billing_error(error, secret_key="sk_test_other")

    assert "sk_" not in refused.message
    assert "rk_" not in refused.message
    assert refused.status_code == 400
    assert refused.details == {"param": "customer"}


def test_a_declined_card_is_402_with_stripes_words() -> None:
    error = stripe.CardError(  # type: ignore[no-untyped-call]  # unannotated upstream
        "Your card was declined.", None, "card_declined", http_status=402
    )

    declined = billing_error(error, secret_key=KEY)

    assert isinstance(declined, PaymentDeclined)
    assert declined.status_code == 402
    assert declined.message == "Your card was declined."


def test_an_unexpected_stripe_error_asks_to_come_back() -> None:
    unavailable = billing_error(stripe.StripeError(f"odd failure for {KEY}"), secret_key=KEY)

    assert isinstance(unavailable, BillingUnavailable)
    assert unavailable.status_code == 503
    assert KEY not in unavailable.message

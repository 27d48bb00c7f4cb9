"""What Stripe does on its own (payments, renewals, cancellations) as the fake plays it, seen
through StripeApi and the events a webhook receives."""

from __future__ import annotations

import pytest

from tests.control.billing.helpers import subscribed, with_api
from tests.support.fakes.stripe import FakeStripe
from webhost.errors import BadRequest


def test_a_paid_checkout_sends_the_three_events(fake_stripe: FakeStripe) -> None:
    price = fake_stripe.add_price(900)
    subscription_id = subscribed(fake_stripe, price)
    completed, created, paid = fake_stripe.events[-3:]

    assert completed["type"] == "checkout.session.completed"
    session = completed["data"]["object"]
    assert (session["status"], session["payment_status"]) == ("complete", "paid")
    assert session["subscription"] == subscription_id
    assert (
        session["client_reference_id"]
        == created["data"]["object"]["metadata"]["webhost_organization"]
    )
    assert created["type"] == "customer.subscription.created"
    assert created["data"]["object"]["status"] == "active"
    assert paid["type"] == "invoice.paid"
    invoice = paid["data"]["object"]
    assert invoice["billing_reason"] == "subscription_create"
    assert invoice["amount_paid"] == 900
    assert invoice["parent"]["subscription_details"]["subscription"] == subscription_id
    for event in (completed, created, paid):
        assert event["id"].startswith("evt_")
        assert event["object"] == "event"
        assert event["api_version"]
        assert event["livemode"] is False


def test_a_failed_renewal_makes_the_subscription_past_due(fake_stripe: FakeStripe) -> None:
    subscription_id = subscribed(fake_stripe, fake_stripe.add_price(900))
    before = with_api(fake_stripe, lambda api: api.retrieve_subscription(subscription_id))

    failed, updated = fake_stripe.fail_payment(subscription_id)

    assert failed["type"] == "invoice.payment_failed"
    invoice = failed["data"]["object"]
    assert (invoice["status"], invoice["billing_reason"]) == ("open", "subscription_cycle")
    assert invoice["amount_paid"] == 0
    assert updated["type"] == "customer.subscription.updated"
    assert updated["data"]["object"]["status"] == "past_due"
    assert updated["data"]["previous_attributes"]["status"] == "active"
    after = with_api(fake_stripe, lambda api: api.retrieve_subscription(subscription_id))
    assert after.status == "past_due"
    assert after.current_period_end > before.current_period_end


def test_paying_the_failed_invoice_makes_it_active_again(fake_stripe: FakeStripe) -> None:
    subscription_id = subscribed(fake_stripe, fake_stripe.add_price(900))
    failed, _ = fake_stripe.fail_payment(subscription_id)
    period_end = with_api(
        fake_stripe, lambda api: api.retrieve_subscription(subscription_id)
    ).current_period_end

    paid, updated = fake_stripe.pay_invoice(subscription_id)

    assert paid["type"] == "invoice.paid"
    assert paid["data"]["object"]["id"] == failed["data"]["object"]["id"]
    assert paid["data"]["object"]["status"] == "paid"
    assert updated["data"]["previous_attributes"] == {"status": "past_due"}
    after = with_api(fake_stripe, lambda api: api.retrieve_subscription(subscription_id))
    assert after.status == "active"
    assert after.current_period_end == period_end


def test_a_failed_retry_sends_only_the_failure(fake_stripe: FakeStripe) -> None:
    subscription_id = subscribed(fake_stripe, fake_stripe.add_price(900))
    fake_stripe.fail_payment(subscription_id)

    [failed_again] = fake_stripe.fail_payment(subscription_id)

    assert failed_again["type"] == "invoice.payment_failed"
    assert failed_again["data"]["object"]["attempt_count"] == 2


def test_a_paid_renewal_starts_the_next_period(fake_stripe: FakeStripe) -> None:
    subscription_id = subscribed(fake_stripe, fake_stripe.add_price(900))
    before = with_api(fake_stripe, lambda api: api.retrieve_subscription(subscription_id))

    paid, updated = fake_stripe.pay_invoice(subscription_id)

    assert paid["data"]["object"]["billing_reason"] == "subscription_cycle"
    assert set(updated["data"]["previous_attributes"]) == {"items", "latest_invoice"}
    after = with_api(fake_stripe, lambda api: api.retrieve_subscription(subscription_id))
    assert after.current_period_end > before.current_period_end


def test_a_cancellation_in_the_portal_waits_for_the_period_end(fake_stripe: FakeStripe) -> None:
    subscription_id = subscribed(fake_stripe, fake_stripe.add_price(900))

    [updated] = fake_stripe.cancel(subscription_id)

    assert updated["type"] == "customer.subscription.updated"
    assert updated["data"]["object"]["cancel_at_period_end"] is True
    subscription = with_api(fake_stripe, lambda api: api.retrieve_subscription(subscription_id))
    assert (subscription.status, subscription.cancel_at_period_end) == ("active", True)


def test_an_immediate_cancellation_ends_the_subscription(fake_stripe: FakeStripe) -> None:
    subscription_id = subscribed(fake_stripe, fake_stripe.add_price(900))
    other_price = fake_stripe.add_price(2900)

    [deleted] = fake_stripe.cancel(subscription_id, at_period_end=False)

    assert deleted["type"] == "customer.subscription.deleted"
    assert deleted["data"]["object"]["status"] == "canceled"
    subscription = with_api(fake_stripe, lambda api: api.retrieve_subscription(subscription_id))
    assert subscription.status == "canceled"
    with pytest.raises(BadRequest, match="canceled subscription"):
        with_api(
            fake_stripe,
            lambda api: api.change_subscription_price(subscription_id, other_price["id"]),
        )

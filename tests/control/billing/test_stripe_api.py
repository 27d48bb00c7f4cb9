from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from tests.control.billing.helpers import (
    CANCEL_URL,
    SUCCESS_URL,
    new_checkout,
    new_customer,
    subscribed,
    with_api,
)
from tests.support.fakes.stripe import FakeStripe
from webhost.control.billing.stripe_api import ORGANIZATION_METADATA_KEY, StripeApi
from webhost.errors import BadRequest, ConfigurationError, Conflict, NotFound


def test_a_customer_names_its_organization(fake_stripe: FakeStripe) -> None:
    organization = uuid.uuid4()

    customer = with_api(
        fake_stripe, lambda api: api.create_customer("ada@example.com", "Ada", organization)
    )

    assert customer.id.startswith("cus_")
    assert customer.email == "ada@example.com"
    [stored] = fake_stripe.customers()
    assert stored["id"] == customer.id
    assert stored["name"] == "Ada"
    assert stored["metadata"] == {ORGANIZATION_METADATA_KEY: str(organization)}
    [request] = fake_stripe.requests
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["stripe-version"]


def test_creating_the_customer_again_gives_the_same_customer(fake_stripe: FakeStripe) -> None:
    organization = uuid.uuid4()

    async def twice(api: StripeApi) -> list[str]:
        first = await api.create_customer("ada@example.com", "Ada", organization)
        second = await api.create_customer("ada@example.com", "Ada", organization)
        return [first.id, second.id]

    first, second = with_api(fake_stripe, twice)

    assert first == second
    assert len(fake_stripe.customers()) == 1
    [key] = {request.idempotency_key for request in fake_stripe.requests}
    assert key is not None
    assert str(organization) in key
    assert [request.replayed for request in fake_stripe.requests] == [False, True]


def test_each_organization_gets_its_own_customer(fake_stripe: FakeStripe) -> None:
    async def two(api: StripeApi) -> set[str]:
        return {(await new_customer(api)).id, (await new_customer(api)).id}

    assert len(with_api(fake_stripe, two)) == 2
    assert len(fake_stripe.customers()) == 2


def test_a_repeated_customer_with_other_details_is_a_conflict(fake_stripe: FakeStripe) -> None:
    organization = uuid.uuid4()

    async def changed_email(api: StripeApi) -> None:
        await api.create_customer("ada@example.com", "Ada", organization)
        await api.create_customer("lovelace@example.com", "Ada", organization)

    with pytest.raises(Conflict, match="details changed"):
        with_api(fake_stripe, changed_email)
    assert len(fake_stripe.customers()) == 1


def test_checkout_subscribes_to_the_price(fake_stripe: FakeStripe) -> None:
    price = fake_stripe.add_price(900)
    organization = uuid.uuid4()

    session = with_api(fake_stripe, lambda api: new_checkout(api, price, organization))

    assert session.id.startswith("cs_test_")
    assert session.url is not None
    assert session.url.startswith("https://")
    assert session.status == "open"
    assert session.subscription_id is None
    params = fake_stripe.requests[-1].params
    assert params["mode"] == "subscription"
    assert params["customer"] == session.customer_id
    assert params["line_items"] == [{"price": price["id"], "quantity": "1"}]
    assert params["client_reference_id"] == str(organization)
    assert params["metadata"] == {ORGANIZATION_METADATA_KEY: str(organization)}
    assert params["subscription_data"] == {
        "metadata": {ORGANIZATION_METADATA_KEY: str(organization)}
    }
    assert (params["success_url"], params["cancel_url"]) == (SUCCESS_URL, CANCEL_URL)


def test_a_paid_checkout_names_its_subscription(fake_stripe: FakeStripe) -> None:
    price = fake_stripe.add_price(900)
    session = with_api(fake_stripe, lambda api: new_checkout(api, price))
    events = fake_stripe.complete_checkout(session.id)

    completed = with_api(fake_stripe, lambda api: api.retrieve_checkout_session(session.id))

    assert completed.status == "complete"
    assert completed.url is None
    assert completed.subscription_id == events[1]["data"]["object"]["id"]


def test_checkout_with_an_unknown_price_says_which(fake_stripe: FakeStripe) -> None:
    with pytest.raises(BadRequest, match="No such price: 'price_missing'") as raised:
        with_api(fake_stripe, lambda api: new_checkout(api, {"id": "price_missing"}))

    assert raised.value.details == {"param": "line_items[0][price]"}


def test_checkout_with_an_inactive_price_is_refused(fake_stripe: FakeStripe) -> None:
    price = fake_stripe.add_price(900, active=False)

    with pytest.raises(BadRequest, match="inactive"):
        with_api(fake_stripe, lambda api: new_checkout(api, price))


def test_checkout_with_a_one_time_price_is_refused(fake_stripe: FakeStripe) -> None:
    price = fake_stripe.add_price(900, interval=None)

    with pytest.raises(BadRequest, match="recurring price"):
        with_api(fake_stripe, lambda api: new_checkout(api, price))


def test_the_portal_link_returns_to_the_dashboard(fake_stripe: FakeStripe) -> None:
    async def portal(api: StripeApi) -> str:
        customer = await new_customer(api)
        session = await api.create_portal_session(customer.id, "https://webhost.example/billing")
        assert session.id.startswith("bps_")
        return session.url

    url = with_api(fake_stripe, portal)

    assert url.startswith("https://billing.stripe.com/")
    assert fake_stripe.requests[-1].params["return_url"] == "https://webhost.example/billing"


def test_the_portal_for_an_unknown_customer_says_which(fake_stripe: FakeStripe) -> None:
    with pytest.raises(BadRequest, match="No such customer: 'cus_missing'"):
        with_api(
            fake_stripe,
            lambda api: api.create_portal_session("cus_missing", "https://webhost.example/"),
        )


def test_a_subscription_reads_as_stripe_holds_it(fake_stripe: FakeStripe) -> None:
    price = fake_stripe.add_price(900)
    subscription_id = subscribed(fake_stripe, price)
    stored = fake_stripe.subscription(subscription_id)
    [item] = stored["items"]["data"]

    subscription = with_api(fake_stripe, lambda api: api.retrieve_subscription(subscription_id))

    assert subscription.id == subscription_id
    assert subscription.customer_id == stored["customer"]
    assert subscription.status == "active"
    assert subscription.item_id == item["id"]
    assert subscription.price_id == price["id"]
    assert subscription.current_period_end == datetime.fromtimestamp(
        item["current_period_end"], UTC
    )
    assert subscription.current_period_end > datetime.now(UTC)
    assert subscription.cancel_at_period_end is False


def test_an_unknown_subscription_is_not_found(fake_stripe: FakeStripe) -> None:
    with pytest.raises(NotFound, match="No such subscription: 'sub_missing'"):
        with_api(fake_stripe, lambda api: api.retrieve_subscription("sub_missing"))


def test_a_plan_change_moves_the_item_to_the_new_price(fake_stripe: FakeStripe) -> None:
    old_price, new_price = fake_stripe.add_price(900), fake_stripe.add_price(2900)
    subscription_id = subscribed(fake_stripe, old_price)
    item_id = fake_stripe.subscription(subscription_id)["items"]["data"][0]["id"]

    changed = with_api(
        fake_stripe, lambda api: api.change_subscription_price(subscription_id, new_price["id"])
    )

    assert changed.price_id == new_price["id"]
    assert changed.item_id == item_id
    stored = fake_stripe.subscription(subscription_id)
    assert [item["price"]["id"] for item in stored["items"]["data"]] == [new_price["id"]]
    update = fake_stripe.requests[-1]
    assert update.method == "POST"
    assert update.params == {
        "items": [{"id": item_id, "price": new_price["id"]}],
        "proration_behavior": "create_prorations",
    }
    updated = fake_stripe.events[-1]
    assert updated["type"] == "customer.subscription.updated"
    assert "items" in updated["data"]["previous_attributes"]


def test_changing_to_the_current_price_changes_nothing(fake_stripe: FakeStripe) -> None:
    price = fake_stripe.add_price(900)
    subscription_id = subscribed(fake_stripe, price)
    seen = len(fake_stripe.requests)

    unchanged = with_api(
        fake_stripe, lambda api: api.change_subscription_price(subscription_id, price["id"])
    )

    assert unchanged.price_id == price["id"]
    assert [request.method for request in fake_stripe.requests[seen:]] == ["GET"]


def test_a_plan_change_to_an_unknown_price_keeps_the_subscription(
    fake_stripe: FakeStripe,
) -> None:
    price = fake_stripe.add_price(900)
    subscription_id = subscribed(fake_stripe, price)

    with pytest.raises(BadRequest, match="No such price: 'price_missing'"):
        with_api(
            fake_stripe,
            lambda api: api.change_subscription_price(subscription_id, "price_missing"),
        )

    stored = fake_stripe.subscription(subscription_id)
    assert stored["items"]["data"][0]["price"]["id"] == price["id"]


def test_a_subscription_of_several_items_is_refused_a_plan_change(
    fake_stripe: FakeStripe,
) -> None:
    subscription_id = subscribed(fake_stripe, fake_stripe.add_price(900))
    extra = fake_stripe.add_price(500)
    fake_stripe.account.subscriptions[subscription_id]["items"]["data"].append(
        {
            **fake_stripe.subscription(subscription_id)["items"]["data"][0],
            "id": "si_2",
            "price": extra,
        }
    )

    with pytest.raises(Conflict, match="2 items"):
        with_api(
            fake_stripe,
            lambda api: api.change_subscription_price(subscription_id, extra["id"]),
        )


def test_cancelling_keeps_the_subscription_until_the_period_ends(fake_stripe: FakeStripe) -> None:
    subscription_id = subscribed(fake_stripe, fake_stripe.add_price(900))

    cancelled = with_api(
        fake_stripe, lambda api: api.cancel_subscription_at_period_end(subscription_id)
    )

    assert cancelled.cancel_at_period_end is True
    assert cancelled.status == "active"
    stored = fake_stripe.subscription(subscription_id)
    assert stored["cancel_at"] == stored["items"]["data"][0]["current_period_end"]
    assert fake_stripe.requests[-1].params == {"cancel_at_period_end": "true"}
    updated = fake_stripe.events[-1]
    assert updated["type"] == "customer.subscription.updated"
    assert updated["data"]["previous_attributes"]["cancel_at_period_end"] is False


def test_a_price_reads_as_registered(fake_stripe: FakeStripe) -> None:
    price = fake_stripe.add_price(1200, currency="usd", interval="year")

    read = with_api(fake_stripe, lambda api: api.retrieve_price(price["id"]))

    assert (read.id, read.active, read.currency, read.unit_amount, read.interval) == (
        price["id"],
        True,
        "usd",
        1200,
        "year",
    )


def test_an_unknown_price_is_not_found(fake_stripe: FakeStripe) -> None:
    with pytest.raises(NotFound, match="No such price: 'price_missing'"):
        with_api(fake_stripe, lambda api: api.retrieve_price("price_missing"))


@pytest.mark.parametrize("secret_key", ["", "   "])
def test_a_missing_secret_key_is_a_configuration_error(secret_key: str) -> None:
    with pytest.raises(ConfigurationError, match="secret key"):
        StripeApi(secret_key)

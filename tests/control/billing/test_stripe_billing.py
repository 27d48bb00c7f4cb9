"""Billing through Stripe, end to end: the real `stripe` library against the in-repo fake,
webhooks signed as Stripe signs them, the platform as `webhost up` runs it."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from typing import Any

import httpx
import pytest

from tests.support.clients import api_client
from tests.support.dashboard import text_of
from tests.support.factories import Customer, create_key, operator_client, sign_up
from tests.support.fakes.stripe import FakeStripe, sign
from tests.support.inspect import query
from tests.support.platform import PlatformThread, start_platform, wait_for_deployment
from tests.support.polling import wait_until
from webhost.control.billing.stripe_api import StripeApi
from webhost.db.urls import PostgresURL

WEBHOOK_SECRET = "whsec_" + "t" * 32
GRACE_SECONDS = 3.0


@pytest.fixture(scope="module")
def stripe_fake() -> Iterator[FakeStripe]:
    with FakeStripe() as fake:
        yield fake


@pytest.fixture(scope="module")
def billed_platform(
    postgres_server: PostgresURL,
    tmp_path_factory: pytest.TempPathFactory,
    stripe_fake: FakeStripe,
) -> Iterator[PlatformThread]:
    running = start_platform(
        postgres_server,
        tmp_path_factory.mktemp("billing"),
        "billing",
        stripe_secret_key=stripe_fake.secret_key,
        stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_api_base=stripe_fake.url,
        billing_grace_days=GRACE_SECONDS / 86_400,
        billing_retention_days=30,
    )
    with operator_client(running) as operator:
        for slug, cents in (("starter", 4900), ("professional", 14900), ("business", 39900)):
            price = stripe_fake.add_price(cents, currency="usd")
            response = operator.patch(f"/api/plans/{slug}", json={"stripe_price_id": price["id"]})
            assert response.status_code == 200, response.text
    yield running
    running.stop()


def deliver(platform: PlatformThread, event: dict[str, Any], **signing: Any) -> httpx.Response:
    payload = json.dumps(event).encode()
    return httpx.post(
        f"{platform.control_url}/api/billing/stripe/webhook",
        content=payload,
        headers={
            "Stripe-Signature": sign(
                payload, signing.get("secret", WEBHOOK_SECRET), signing.get("at")
            ),
            "Content-Type": "application/json",
        },
    )


def deliver_all(platform: PlatformThread, events: list[dict[str, Any]]) -> None:
    for event in events:
        response = deliver(platform, event)
        assert response.status_code == 200, response.text
        assert response.json() == {"received": True, "duplicate": False}


def stripe_ids(platform: PlatformThread, customer: Customer) -> tuple[str, str | None]:
    [(session_id, subscription_id)] = query(
        platform.control_database,
        "SELECT s.stripe_checkout_session_id, s.stripe_subscription_id FROM subscriptions s "
        "JOIN deployments d ON d.organization_id = s.organization_id WHERE d.id = $1",
        uuid.UUID(customer.deployment["id"]),
    )
    return session_id, subscription_id


def dashboard_text(platform: PlatformThread, customer: Customer) -> str:
    page = httpx.get(
        f"{platform.control_url}/dashboard", cookies={"webhost_session": customer.token}
    )
    assert page.status_code == 200, page.text
    return text_of(page.text)


def paid_customer(platform: PlatformThread, fake: FakeStripe) -> tuple[Customer, str]:
    customer = sign_up(platform.control_url, plan="starter")
    session_id, _ = stripe_ids(platform, customer)
    deliver_all(platform, fake.complete_checkout(session_id))
    wait_for_deployment(customer.client, customer.deployment["id"])
    _, subscription_id = stripe_ids(platform, customer)
    assert subscription_id is not None
    return customer, subscription_id


def test_a_paid_signup_is_provisioned_only_once_stripe_confirms(
    billed_platform: PlatformThread, stripe_fake: FakeStripe
) -> None:
    customer = sign_up(billed_platform.control_url, plan="starter")
    with customer.client:
        assert customer.deployment["status"] == "awaiting_payment"
        billing = customer.client.get("/api/billing").json()
        assert billing["status"] == "incomplete"
        assert billing["checkout_url"].startswith("https://")
        assert "Pay to start the deployment" in dashboard_text(billed_platform, customer)
        time.sleep(1)  # nothing is provisioned while it waits
        waiting = customer.client.get(f"/api/deployments/{customer.deployment['id']}").json()
        assert (waiting["status"], waiting["steps"]) == ("awaiting_payment", [])
        session_id, _ = stripe_ids(billed_platform, customer)
        events = stripe_fake.complete_checkout(session_id)
        deliver_all(billed_platform, events)
        deployment = wait_for_deployment(customer.client, customer.deployment["id"])
        assert deployment["status"] == "active"
        assert customer.client.get("/api/billing").json()["status"] == "active"
        # a redelivered event is recorded once and changes nothing
        again = deliver(billed_platform, events[0])
        assert again.json() == {"received": True, "duplicate": True}
        portal = customer.client.post("/api/billing/portal")
        assert portal.status_code == 200, portal.text
        assert portal.json()["url"].startswith("https://")


def test_free_plans_are_assigned_without_stripe(billed_platform: PlatformThread) -> None:
    customer = sign_up(billed_platform.control_url, plan="hobby")
    with customer.client:
        assert customer.deployment["status"] == "provisioning"
        assert customer.client.get("/api/billing").json()["billed_through_stripe"] is False


def test_forged_stale_and_unsigned_webhooks_get_400_and_change_nothing(
    billed_platform: PlatformThread, stripe_fake: FakeStripe
) -> None:
    customer = sign_up(billed_platform.control_url, plan="starter")
    with customer.client:
        session_id, _ = stripe_ids(billed_platform, customer)
        completed = stripe_fake.complete_checkout(session_id)[0]
        forged = deliver(billed_platform, completed, secret="whsec_" + "x" * 32)
        stale = deliver(billed_platform, completed, at=int(time.time()) - 600)
        unsigned = httpx.post(
            f"{billed_platform.control_url}/api/billing/stripe/webhook", content=b"{}"
        )
        for response, reason in (
            (forged, "does not match"),
            (stale, "seconds ago"),
            (unsigned, "missing"),
        ):
            assert response.status_code == 400, response.text
            assert reason in response.json()["error"]["message"]
        state = customer.client.get(f"/api/deployments/{customer.deployment['id']}").json()
        assert state["status"] == "awaiting_payment"


def test_a_failed_payment_suspends_after_the_grace_period_and_payment_resumes(
    billed_platform: PlatformThread, stripe_fake: FakeStripe
) -> None:
    customer, subscription_id = paid_customer(billed_platform, stripe_fake)
    with closing(customer.client):
        deployment = customer.client.get(f"/api/deployments/{customer.deployment['id']}").json()
        key = create_key(customer)["key"]
        with api_client(deployment["api_url"], key) as data:
            assert data.put("/v1/collections/notes", json={"schema": "id"}).status_code == 201
            assert (
                data.post("/v1/collections/notes/records", json={"id": "kept"}).status_code == 201
            )
            deliver_all(billed_platform, stripe_fake.fail_payment(subscription_id))
            billing = customer.client.get("/api/billing").json()
            assert billing["status"] == "past_due"
            assert billing["grace_until"] is not None
            assert data.get("/v1/collections").status_code == 200  # served in the grace period
            page = dashboard_text(billed_platform, customer)
            assert "Grace period" in page
            assert "a payment failed; serving until" in page
            assert "Manage payment and invoices" in page
            refused = wait_until(
                lambda: (
                    (response := data.get("/v1/collections/notes/records")).status_code == 402
                    and response
                ),
                timeout=60,
                message="suspension after the grace period",
            )
            assert refused.json()["error"]["code"] == "deployment_suspended"
            assert "payment failed" in refused.json()["error"]["message"]
            state = customer.client.get(f"/api/deployments/{customer.deployment['id']}").json()
            assert state["status"] == "suspended"
            # a key made while suspended reaches the plane, and opens it once paid
            later_key = create_key(customer, "made while suspended")["key"]
            deliver_all(billed_platform, stripe_fake.pay_invoice(subscription_id))
            records = wait_until(
                lambda: (
                    (response := data.get("/v1/collections/notes/records")).status_code == 200
                    and response
                ),
                timeout=30,
                message="service restored after payment",
            )
            assert [record["id"] for record in records.json()] == ["kept"]
        with api_client(deployment["api_url"], later_key) as later:
            assert later.get("/v1/collections").status_code == 200
        assert customer.client.get("/api/billing").json()["suspended_at"] is None


def test_a_cancelled_subscription_is_suspended_when_it_ends_and_kept_for_export(
    billed_platform: PlatformThread, stripe_fake: FakeStripe
) -> None:
    customer, subscription_id = paid_customer(billed_platform, stripe_fake)
    with closing(customer.client):
        deployment = customer.client.get(f"/api/deployments/{customer.deployment['id']}").json()
        key = create_key(customer)["key"]
        deliver_all(billed_platform, stripe_fake.cancel(subscription_id, at_period_end=True))
        billing = customer.client.get("/api/billing").json()
        assert billing["cancel_at_period_end"] is True
        with api_client(deployment["api_url"], key) as data:
            assert data.get("/v1/collections").status_code == 200  # paid to the period's end
            deliver_all(billed_platform, stripe_fake.cancel(subscription_id, at_period_end=False))
            refused = wait_until(
                lambda: (response := data.get("/v1/collections")).status_code == 402 and response,
                timeout=60,
                message="suspension at the subscription's end",
            )
            assert "kept until" in refused.json()["error"]["message"]
        billing = customer.client.get("/api/billing").json()
        assert billing["status"] == "canceled"
        assert billing["delete_after"] is not None


def exported(customer: Customer) -> list[dict[str, Any]]:
    response = customer.client.get(f"/api/deployments/{customer.deployment['id']}/export")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    assert "attachment" in response.headers["content-disposition"]
    return [json.loads(line) for line in response.text.splitlines()]


def test_a_suspended_deployment_exports_its_data_and_is_deleted_after_the_retention_window(
    billed_platform: PlatformThread, stripe_fake: FakeStripe
) -> None:
    customer, subscription_id = paid_customer(billed_platform, stripe_fake)
    deployment_id = customer.deployment["id"]
    with closing(customer.client):
        deployment = customer.client.get(f"/api/deployments/{deployment_id}").json()
        key = create_key(customer)["key"]
        with api_client(deployment["api_url"], key) as data:
            assert data.put("/v1/collections/notes", json={"schema": "id"}).status_code == 201
            for name in ("kept", "also kept"):
                response = data.post("/v1/collections/notes/records", json={"id": name})
                assert response.status_code == 201
        deliver_all(billed_platform, stripe_fake.cancel(subscription_id, at_period_end=False))
        wait_until(
            lambda: (
                customer.client.get(f"/api/deployments/{deployment_id}").json()["status"]
                == "suspended"
            ),
            timeout=60,
            message="suspension",
        )
        header, *rows = exported(customer)
        assert header["format"] == "webhost-export/1"
        assert header["deployment"] == deployment_id
        notes = [row["row"]["pk"] for row in rows if row["table"] == "c_notes"]
        assert sorted(notes) == ["also kept", "kept"]
        assert "Export all data" in dashboard_text(billed_platform, customer)
        browser = httpx.get(
            f"{billed_platform.control_url}/dashboard/deployments/{deployment_id}/export",
            cookies={"webhost_session": customer.token},
        )
        assert browser.status_code == 200
        assert len(browser.text.splitlines()) == len(rows) + 1
        # the retention window passes (as if 30 days went by)
        query(
            billed_platform.control_database,
            "UPDATE subscriptions s SET delete_after = now() - interval '1 second' "
            "FROM deployments d WHERE d.organization_id = s.organization_id AND d.id = $1",
            uuid.UUID(deployment_id),
        )
        deleted = wait_until(
            lambda: (
                (body := customer.client.get(f"/api/deployments/{deployment_id}").json())["status"]
                == "deleted"
                and body
            ),
            timeout=90,
            message="deletion after the retention window",
        )
        assert deleted["run"]["workflow"] == "deprovision"
        assert deleted["run"]["status"] == "succeeded"
        assert all(step["status"] == "undone" for step in deleted["steps"])
        database = f"wh_t_{deployment_id.replace('-', '')[:16]}"
        assert not query(
            billed_platform.control_database,
            "SELECT 1 FROM pg_database WHERE datname = $1",
            database,
        )
        gone = customer.client.get(f"/api/deployments/{deployment_id}/export")
        assert gone.status_code == 409
        with api_client(deployment["api_url"], key) as data:
            assert data.get("/v1/collections").status_code in (401, 404)


def subscription_price(fake: FakeStripe, subscription_id: str) -> str:
    price: str = fake.subscription(subscription_id)["items"]["data"][0]["price"]["id"]
    return price


def plan_price(platform: PlatformThread, slug: str) -> str:
    [(price,)] = query(
        platform.control_database, "SELECT stripe_price_id FROM plans WHERE slug = $1", slug
    )
    return str(price)


def test_plan_changes_move_the_stripe_price_and_stripe_price_changes_move_the_plan(
    billed_platform: PlatformThread, stripe_fake: FakeStripe
) -> None:
    customer, subscription_id = paid_customer(billed_platform, stripe_fake)
    with closing(customer.client):
        path = f"/api/deployments/{customer.deployment['id']}/plan"
        moved = customer.client.post(path, json={"plan": "professional"})
        assert moved.status_code == 202, moved.text
        assert subscription_price(stripe_fake, subscription_id) == plan_price(
            billed_platform, "professional"
        )
        # the customer changes plan in Stripe's portal: Stripe's event moves the deployment
        seen = len(stripe_fake.events)
        asyncio.run(
            change_price(stripe_fake, subscription_id, plan_price(billed_platform, "business"))
        )
        updated = [
            event
            for event in stripe_fake.events[seen:]
            if event["type"] == "customer.subscription.updated"
        ]
        deliver_all(billed_platform, updated)
        deployment = customer.client.get(f"/api/deployments/{customer.deployment['id']}").json()
        assert deployment["plan"] == "business"
        assert customer.client.get("/api/billing").json()["plan"] == "business"


async def change_price(fake: FakeStripe, subscription_id: str, price_id: str) -> None:
    async with StripeApi(fake.secret_key, api_base=fake.url) as api:
        await api.change_subscription_price(subscription_id, price_id)

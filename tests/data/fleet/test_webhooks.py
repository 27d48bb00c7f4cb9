"""Fleet webhooks: signed deliveries over real HTTP, retried by durable jobs, logged, replayed,
and a failing endpoint disabled with the reason."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.data.fleet.receivers import Receiver, webhook_receiver
from tests.data.yjs.planes import StartedPlane, StartPlane
from tests.support.clients import api_client
from tests.support.database import ProvisionedTenant
from tests.support.polling import wait_until
from webhost.data.fleet import webhooks_repository
from webhost.data.fleet.options import FleetOptions
from webhost.data.fleet.webhook_delivery import retry_delay
from webhost.data.fleet.webhook_signing import SIGNATURE_HEADER, signature_header, verify

QUICK = FleetOptions(
    webhook_allow_private_networks=True,
    webhook_poll_seconds=30,
    webhook_first_retry_seconds=0.2,
    webhook_disable_after_failures=3,
)


@pytest.fixture
def plane(start_plane: StartPlane) -> StartedPlane:
    return start_plane(fleet=QUICK)


@pytest.fixture
def client(plane: StartedPlane, tenant: ProvisionedTenant) -> Iterator[httpx.Client]:
    with api_client(plane.served.url, tenant.api_key) as client:
        yield client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as receiver:
        yield receiver


def register(client: httpx.Client, url: str, events: list[str] | None = None) -> dict[str, object]:
    response = client.post(
        "/v1/fleet/webhooks", json={"url": url, "events": events or ["geofence_enter"]}
    )
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


def deliveries(client: httpx.Client, webhook_id: object) -> list[dict[str, object]]:
    response = client.get(f"/v1/fleet/webhooks/{webhook_id}/deliveries")
    assert response.status_code == 200, response.text
    found: list[dict[str, object]] = response.json()
    return found


def test_a_test_delivery_arrives_signed_and_is_logged(
    client: httpx.Client, receiver: Receiver
) -> None:
    webhook = register(client, receiver.url)
    secret = str(webhook["secret"])
    assert secret.startswith("whsec_")
    assert "secret" not in client.get(f"/v1/fleet/webhooks/{webhook['id']}").json()
    assert client.post(f"/v1/fleet/webhooks/{webhook['id']}/test").status_code == 202
    wait_until(lambda: len(receiver.received) == 1, message="the ping")
    sent = receiver.received[0]
    assert verify(secret, sent.body, sent.headers[SIGNATURE_HEADER.lower()], int(time.time()))
    assert not verify(
        "whsec_other", sent.body, sent.headers[SIGNATURE_HEADER.lower()], int(time.time())
    )
    assert json.loads(sent.body)["type"] == "ping"
    assert sent.headers["webhost-event"] == "ping"
    wait_until(lambda: deliveries(client, webhook["id"])[0]["status"] == "delivered")
    logged = deliveries(client, webhook["id"])[0]
    assert logged["attempts"] == 1
    assert logged["last_status_code"] == 200
    assert isinstance(logged["last_response_ms"], int)
    assert str(logged["id"]) == sent.headers["webhost-delivery"]


def test_failures_are_retried_until_the_receiver_answers(
    client: httpx.Client, receiver: Receiver
) -> None:
    receiver.answer(500, 503)
    webhook = register(client, receiver.url)
    client.post(f"/v1/fleet/webhooks/{webhook['id']}/test")
    wait_until(lambda: len(receiver.received) == 3, message="two retries", timeout=60)
    wait_until(lambda: deliveries(client, webhook["id"])[0]["status"] == "delivered")
    logged = deliveries(client, webhook["id"])[0]
    assert logged["attempts"] == 3
    # every attempt carries the same delivery and body, freshly signed
    assert len({r.headers["webhost-delivery"] for r in receiver.received}) == 1
    assert len({r.body for r in receiver.received}) == 1
    assert client.get(f"/v1/fleet/webhooks/{webhook['id']}").json()["consecutive_failures"] == 0


def test_an_endpoint_that_keeps_failing_is_disabled_and_can_be_replayed_after(
    client: httpx.Client, receiver: Receiver
) -> None:
    receiver.answer(500, 500, 500, 500, 500, 500)
    webhook = register(client, receiver.url)
    client.post(f"/v1/fleet/webhooks/{webhook['id']}/test")
    wait_until(
        lambda: not client.get(f"/v1/fleet/webhooks/{webhook['id']}").json()["active"],
        message="disabled",
        timeout=60,
    )
    disabled = client.get(f"/v1/fleet/webhooks/{webhook['id']}").json()
    assert "3 failed deliveries in a row" in disabled["disabled_reason"]
    assert "HTTP 500" in disabled["disabled_reason"]
    time.sleep(0.6)
    assert len(receiver.received) == 3  # nothing goes to a disabled endpoint
    assert client.post(f"/v1/fleet/webhooks/{webhook['id']}/test").status_code == 409
    receiver.statuses.clear()
    enabled = client.patch(f"/v1/fleet/webhooks/{webhook['id']}", json={"active": True})
    assert enabled.json()["active"] is True
    assert enabled.json()["disabled_reason"] is None
    # the pending delivery resumes; a replay of it is a new delivery with the same payload
    wait_until(lambda: deliveries(client, webhook["id"])[0]["status"] == "delivered", timeout=60)
    first = deliveries(client, webhook["id"])[0]
    replayed = client.post(f"/v1/fleet/webhooks/{webhook['id']}/deliveries/{first['id']}/replay")
    assert replayed.status_code == 201, replayed.text
    wait_until(lambda: len(receiver.received) >= 5, message="the replay")
    assert receiver.received[-1].body == receiver.received[0].body
    assert receiver.received[-1].headers["webhost-delivery"] == str(replayed.json()["id"])


def test_private_addresses_are_refused_unless_allowed(
    start_plane: StartPlane, tenant: ProvisionedTenant, receiver: Receiver
) -> None:
    strict = start_plane(
        fleet=FleetOptions(webhook_poll_seconds=30, webhook_first_retry_seconds=60)
    )
    with api_client(strict.served.url, tenant.api_key) as client:
        webhook = register(client, receiver.url)
        client.post(f"/v1/fleet/webhooks/{webhook['id']}/test")
        # the attempt is counted when claimed, its error once the send has failed
        wait_until(lambda: deliveries(client, webhook["id"])[0]["last_error"] is not None)
        logged = deliveries(client, webhook["id"])[0]
    assert logged["status"] == "pending"
    assert "non-public address (127.0.0.1)" in str(logged["last_error"])
    assert receiver.received == []


def test_bad_registrations_get_clear_errors(client: httpx.Client) -> None:
    for body, expected in [
        ({"url": "ftp://example.com/x", "events": ["overspeed"]}, 422),
        ({"url": "https://user:pw@example.com/x", "events": ["overspeed"]}, 422),
        ({"url": "https://example.com/\u0000", "events": ["overspeed"]}, 422),
        ({"url": "https://example.com/x", "events": []}, 422),
        ({"url": "https://example.com/x", "events": ["everything"]}, 422),
        ({"url": "https://example.com/x", "events": ["overspeed"], "extra": 1}, 422),
        ({"url": ["https://example.com"], "events": ["overspeed"]}, 422),
    ]:
        response = client.post("/v1/fleet/webhooks", json=body)
        assert response.status_code == expected, (body, response.text)
        assert response.json()["error"]["message"]
    assert client.get("/v1/fleet/webhooks/999999").status_code == 404
    assert client.get("/v1/fleet/webhooks/999999/deliveries").status_code == 404
    assert client.get("/v1/fleet/webhooks/abc").status_code == 422
    created = register(client, "https://example.com/hook")
    patched = client.patch(f"/v1/fleet/webhooks/{created['id']}", json={"url": None})
    assert patched.status_code == 422
    listed = client.get(f"/v1/fleet/webhooks/{created['id']}/deliveries?status=lost")
    assert listed.status_code == 422


def test_another_tenant_sees_none_of_the_webhooks(
    plane: StartedPlane, client: httpx.Client, other_tenant: ProvisionedTenant
) -> None:
    webhook = register(client, "https://example.com/hook")
    with api_client(plane.served.url, other_tenant.api_key) as other:
        assert other.get("/v1/fleet/webhooks").json() == []
        assert other.get(f"/v1/fleet/webhooks/{webhook['id']}").status_code == 404
        assert other.delete(f"/v1/fleet/webhooks/{webhook['id']}").status_code == 404
    assert client.get(f"/v1/fleet/webhooks/{webhook['id']}").status_code == 200


@settings(max_examples=50, suppress_health_check=[HealthCheck.too_slow])
@given(
    secret=st.text(min_size=1, max_size=40),
    body=st.binary(max_size=200),
    moment=st.integers(0, 2**40),
)
def test_signatures_verify_only_with_their_secret_body_and_time(
    secret: str, body: bytes, moment: int
) -> None:
    header = signature_header(secret, body, moment)
    assert verify(secret, body, header, moment + 299)
    assert not verify(secret, body, header, moment + 301)  # replayed too late
    assert not verify(secret, body + b"x", header, moment)
    assert not verify(secret + "x", body, header, moment)


def test_retries_back_off_exponentially_to_an_hour() -> None:
    assert [retry_delay(n) for n in (1, 2, 3)] == [10, 20, 40]
    assert retry_delay(30) == 3600


def test_events_reach_only_webhooks_of_their_type(
    plane: StartedPlane, client: httpx.Client, tenant: ProvisionedTenant, receiver: Receiver
) -> None:
    entering = register(client, receiver.url, ["geofence_enter"])
    register(client, receiver.url, ["overspeed"])
    event = {"type": "geofence_enter", "vehicle": "truck-1", "geofence_id": 1}

    async def enqueue() -> int:
        async with plane.plane.transaction(tenant.tenant) as connection:
            return await webhooks_repository.enqueue(connection, [event])

    assert plane.served.call(enqueue()) == 1
    plane.plane.webhooks.wake(tenant.tenant)
    wait_until(lambda: len(receiver.received) == 1)
    assert json.loads(receiver.received[0].body) == event
    assert deliveries(client, entering["id"])[0]["event_type"] == "geofence_enter"

"""A plan change to the other mode moves the deployment between shared and dedicated hosting:
its URLs stay, no acknowledged write is lost, clients reconnect by themselves; a copy that does
not verify is rolled back and the source keeps serving."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from tests.support.clients import api_client
from tests.support.factories import Customer, create_key, operator_client, sign_up
from tests.support.inspect import query
from tests.support.moves import (
    CorruptingLocalProvider,
    RestWriter,
    all_record_ids,
    move_to,
    wait_moved,
)
from tests.support.node import YjsNodeClient, node_available
from tests.support.platform import PlatformThread, start_platform, wait_for_deployment
from tests.support.polling import wait_until
from webhost.data.tenancy.scope import tenant_name_for
from webhost.db.urls import PostgresURL

pytestmark = pytest.mark.skipif(not node_available(), reason="needs Node and tests/node")


@pytest.fixture(scope="module")
def moving(
    postgres_server: PostgresURL, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PlatformThread]:
    """A platform that removes a moved deployment's old copy at once (no safety window)."""
    running = start_platform(
        postgres_server,
        tmp_path_factory.mktemp("moves"),
        "moves",
        provider="tests.support.moves:CorruptingLocalProvider",
        move_safety_hours=0,
    )
    yield running
    running.stop()


@pytest.fixture
def customer_of(moving: PlatformThread) -> Iterator[Callable[[str], Customer]]:
    """Customers of the moving platform; their clients close after the test, passed or not."""
    customers: list[Customer] = []

    def create(plan: str) -> Customer:
        customers.append(sign_up(moving.control_url, plan=plan))
        return customers[-1]

    yield create
    for customer in customers:
        customer.client.close()


def schema_exists(server: PostgresURL, database: str, schema: str) -> bool:
    try:
        found = query(
            server.with_database(database),
            "SELECT 1 FROM pg_namespace WHERE nspname = $1",
            schema,
        )
    except asyncpg.InvalidCatalogNameError:  # the whole database is gone (or going)
        return False
    return bool(found)


def databases_of(platform: PlatformThread, deployment_id: str) -> tuple[PostgresURL, str, str]:
    """The server, the shared database and the deployment's dedicated database."""
    assert platform.runtime is not None
    assert platform.runtime.platform is not None
    server = platform.runtime.platform.server
    shared = f"{platform.control_database.database}_shared"
    return server, shared, f"wh_{tenant_name_for(uuid.UUID(deployment_id))}"


def send_positions(api_url: str, key: str, vehicles: int) -> None:
    points = [
        {
            "vehicle": f"TRK-{number:03d}",
            "time": datetime.now(UTC).isoformat(),
            "latitude": 52.5 + number / 1000,
            "longitude": 13.4,
        }
        for number in range(vehicles)
    ]
    with api_client(api_url, key) as data:
        response = data.post("/v1/fleet/positions", json=points)
        assert response.status_code == 200, response.text


def test_a_deployment_moves_up_to_dedicated_and_back_to_shared_losing_nothing(
    moving: PlatformThread, customer_of: Callable[[str], Customer]
) -> None:
    customer = customer_of("hobby")
    deployment_id = customer.deployment["id"]
    before = wait_for_deployment(customer.client, deployment_id)
    api_url, sync_url = before["api_url"], before["sync_url"]
    key = create_key(customer)["key"]
    server, shared, dedicated = databases_of(moving, deployment_id)
    tenant = tenant_name_for(uuid.UUID(deployment_id))
    with api_client(api_url, key) as data:
        assert data.put("/v1/collections/trips", json={"schema": "++id, vehicle"}).status_code in (
            200,
            201,
        )
    send_positions(api_url, key, 3)
    with (
        YjsNodeClient(sync_url, "route-plan", key) as editor,
        YjsNodeClient(sync_url, "route-plan", key) as witness,
        RestWriter(api_url, key) as writer,
    ):
        editor.wait_synced()
        witness.wait_synced()
        editor.call("insert", value="depot; ")
        writer.wait_for(10)
        for plan, mode, words in (
            ("starter", "dedicated", "north; "),
            ("hobby", "shared", "south"),
        ):
            move_to(customer, deployment_id, plan)
            editor.call("insert", value=words)  # typed while the deployment moves
            moved = wait_moved(customer, deployment_id, mode)
            assert (moved["api_url"], moved["sync_url"]) == (api_url, sync_url)
            assert moved["plan"] == plan
            assert moved["error"] is None
            assert [step["name"] for step in moved["steps"]][-5:] == [
                "hold_target",
                "hold_source",
                "copy",
                "verify",
                "switch",
            ]
            writer.wait_for(10)  # writes go on, now on the new plane
            # the old copy goes once the safety window (none here) has passed
            old = shared if mode == "dedicated" else dedicated
            wait_until(
                lambda old=old: not schema_exists(server, old, tenant),
                timeout=60,
                message="old copy removed",
            )
        text = "depot; north; south"
        wait_until(lambda: witness.snapshot()["text"] == text, timeout=60, message="edits seen")

        def reconnections() -> int:
            statuses = [e["status"] for e in editor.events() if e["event"] == "status"]
            return statuses.count("connected") - 1

        # closed with 1013 at each hold, it reconnected by itself after each switch
        wait_until(lambda: reconnections() >= 2, timeout=60, message="editor reconnected")
    acknowledged = set(writer.acknowledged)
    assert acknowledged <= all_record_ids(api_url, key)
    assert len(acknowledged) >= 30
    with YjsNodeClient(sync_url, "route-plan", key) as late:
        late.wait_synced()
        assert late.snapshot()["text"] == text
    with api_client(api_url, key) as data:
        vehicles = data.get("/v1/fleet/vehicles").json()
    assert len(vehicles) == 3
    assert not schema_exists(server, dedicated, tenant)
    assert schema_exists(server, shared, tenant)


def test_a_copy_that_does_not_verify_is_rolled_back_and_the_source_serves(
    moving: PlatformThread, customer_of: Callable[[str], Customer]
) -> None:
    customer = customer_of("hobby")
    deployment_id = customer.deployment["id"]
    before = wait_for_deployment(customer.client, deployment_id)
    key = create_key(customer)["key"]
    with api_client(before["api_url"], key) as data:
        data.put("/v1/collections/trips", json={"schema": "++id, vehicle"})
        for number in range(5):
            assert data.post("/v1/collections/trips/records", json={"n": number}).status_code == 201
    CorruptingLocalProvider.corrupt.add(uuid.UUID(deployment_id))
    move_to(customer, deployment_id, "starter")

    def rolled_back() -> dict[str, Any] | None:
        body: dict[str, Any] = customer.client.get(f"/api/deployments/{deployment_id}").json()
        return body if body["status"] == "active" and body["error"] else None

    after = wait_until(rolled_back, timeout=120, interval=0.2, message="move rolled back")
    assert (after["plan"], after["mode"]) == ("hobby", "shared")
    assert "rolled back" in after["error"]
    assert "c_trips: same row count (5), different content" in after["error"]
    assert after["run"]["status"] == "compensated"
    move = customer.client.get(f"/api/deployments/{deployment_id}/move").json()
    assert (move["status"], move["old_copy_kept_until"]) == ("compensated", None)
    assert "c_trips: same row count (5), different content" in move["error"]
    server, _, dedicated = databases_of(moving, deployment_id)
    assert not query(server, f"SELECT 1 FROM pg_database WHERE datname = '{dedicated}'")
    with api_client(before["api_url"], key) as data:
        records = data.get("/v1/collections/trips/records").json()
        assert sorted(record["n"] for record in records) == [0, 1, 2, 3, 4]
        assert all("tampered" not in record for record in records)
        assert data.post("/v1/collections/trips/records", json={"n": 5}).status_code == 201

    # once the cause is gone, the operator asks for the move again and it goes through
    CorruptingLocalProvider.corrupt.discard(uuid.UUID(deployment_id))
    with operator_client(moving) as operator:
        assert "Retry move" in operator.get("/operator").text
        retried = operator.post(f"/api/admin/deployments/{deployment_id}/move/retry")
        assert retried.status_code == 202, retried.text
        assert retried.json()["status"] == "migrating"
    moved = wait_moved(customer, deployment_id, "dedicated")
    assert (moved["plan"], moved["api_url"]) == ("starter", before["api_url"])
    with api_client(before["api_url"], key) as data:
        records = data.get("/v1/collections/trips/records").json()
        assert sorted(record["n"] for record in records) == [0, 1, 2, 3, 4, 5]
    with operator_client(moving) as operator:
        again = operator.post(f"/api/admin/deployments/{deployment_id}/move/retry")
        assert again.status_code == 409, again.text
        assert "has no failed move to retry" in again.json()["error"]["message"]


def test_a_move_to_a_plan_that_cannot_hold_the_fleet_is_refused_up_front(
    customer_of: Callable[[str], Customer],
) -> None:
    customer = customer_of("starter")
    deployment_id = customer.deployment["id"]
    deployment = wait_for_deployment(customer.client, deployment_id)
    key = create_key(customer)["key"]
    send_positions(deployment["api_url"], key, 8)
    response = customer.client.post(
        f"/api/deployments/{deployment_id}/plan", json={"plan": "hobby"}
    )
    assert response.status_code == 409, response.text
    assert (
        "allows 5 vehicles and this deployment has 8: delete 3"
        in response.json()["error"]["message"]
    )
    after = customer.client.get(f"/api/deployments/{deployment_id}").json()
    assert (after["status"], after["plan"], after["mode"]) == ("active", "starter", "dedicated")


def test_while_a_move_runs_or_its_old_copy_is_kept_the_plan_stays_put(
    platform: PlatformThread, signup: Callable[..., Customer]
) -> None:
    """The session platform keeps a moved-from copy for its safety window (24 hours)."""
    customer = signup("hobby")
    deployment_id = customer.deployment["id"]
    wait_for_deployment(customer.client, deployment_id)
    path = f"/api/deployments/{deployment_id}/plan"
    move_to(customer, deployment_id, "starter")
    during = customer.client.post(path, json={"plan": "professional"})
    assert during.status_code == 409, during.text
    assert "is not active" in during.json()["error"]["message"]
    wait_moved(customer, deployment_id, "dedicated")
    back = customer.client.post(path, json={"plan": "hobby"})
    assert back.status_code == 409, back.text
    assert "the copy this deployment moved from is kept until" in back.json()["error"]["message"]
    server, shared, _ = databases_of(platform, deployment_id)
    assert schema_exists(server, shared, tenant_name_for(uuid.UUID(deployment_id)))
    # a change within the new mode is still in place
    within = customer.client.post(path, json={"plan": "professional"})
    assert within.status_code == 202, within.text
    assert within.json()["plan"] == "professional"


def test_an_operator_removes_a_kept_old_copy_early_and_the_deployment_can_move_back(
    platform: PlatformThread, signup: Callable[..., Customer]
) -> None:
    customer = signup("hobby")
    deployment_id = customer.deployment["id"]
    wait_for_deployment(customer.client, deployment_id)
    move_to(customer, deployment_id, "starter")
    wait_moved(customer, deployment_id, "dedicated")
    move = customer.client.get(f"/api/deployments/{deployment_id}/move").json()
    assert (move["from_plan"], move["to_plan"], move["status"]) == ("hobby", "starter", "succeeded")
    assert move["old_copy_kept_until"] is not None
    assert move["old_copy_removed_at"] is None
    removal = f"/api/admin/deployments/{deployment_id}/old-copy/removal"
    assert customer.client.post(removal).status_code == 403
    with operator_client(platform) as operator:
        page = operator.get("/operator").text
        assert "Move hobby → starter: succeeded" in page
        assert f"/operator/deployments/{deployment_id}/old-copy/removal" in page
        removed = operator.post(removal)
        assert removed.status_code == 202, removed.text

        def old_copy_removed() -> dict[str, Any] | None:
            body: dict[str, Any] = operator.get(f"/api/deployments/{deployment_id}/move").json()
            return body if body["old_copy_removed_at"] else None

        wait_until(old_copy_removed, timeout=60, interval=0.2, message="old copy removed")
        assert operator.post(removal).status_code == 409
        assert "old copy removed" in operator.get("/operator").text
    server, shared, _ = databases_of(platform, deployment_id)
    assert not schema_exists(server, shared, tenant_name_for(uuid.UUID(deployment_id)))
    back = customer.client.post(f"/api/deployments/{deployment_id}/plan", json={"plan": "hobby"})
    assert back.status_code == 202, back.text
    wait_moved(customer, deployment_id, "shared")


def test_once_the_window_is_over_a_move_back_waits_for_the_removal_with_retry_after(
    platform: PlatformThread, signup: Callable[..., Customer]
) -> None:
    customer = signup("hobby")
    deployment_id = customer.deployment["id"]
    wait_for_deployment(customer.client, deployment_id)
    move_to(customer, deployment_id, "starter")
    wait_moved(customer, deployment_id, "dedicated")
    # the safety window has ended; its removal job is due but has not finished
    query(
        platform.control_database,
        "UPDATE workflow_runs SET parameters = parameters || "
        "jsonb_build_object('remove_source_at', $2::text) "
        "WHERE deployment_id = $1 AND workflow = 'migrate'",
        uuid.UUID(deployment_id),
        "2026-01-01T00:00:00+00:00",
    )
    back = customer.client.post(f"/api/deployments/{deployment_id}/plan", json={"plan": "hobby"})
    assert back.status_code == 409, back.text
    assert back.json()["error"]["message"] == (
        "the copy this deployment moved from is being removed; it can move again once that is done"
    )
    assert int(back.headers["retry-after"]) >= 1
    after = customer.client.get(f"/api/deployments/{deployment_id}").json()
    assert (after["status"], after["plan"]) == ("active", "starter")

"""The live socket: catch-up then streamed changes for subscribers, notices for the others,
push and pull as requests, and clear refusals of what is not the protocol."""

from __future__ import annotations

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from tests.data.collections.records import define
from tests.data.sync.live_clients import LiveClient
from tests.data.sync.syncing import mutation, transaction
from tests.support.database import ProvisionedTenant, revoke_key
from tests.support.servers import ServedApp
from webhost.db.urls import PostgresURL


def put(client: httpx.Client, collection: str, key: str, **fields: object) -> None:
    response = client.put(f"/v1/collections/{collection}/records/{key}", json=fields)
    assert response.status_code in {200, 201}, response.text


@pytest.fixture
def live(data_server: ServedApp, tenant: ProvisionedTenant) -> LiveClient:
    return LiveClient(data_server.ws_url, tenant.api_key)


def test_a_wrong_key_is_refused_at_the_handshake(data_server: ServedApp) -> None:
    with pytest.raises(InvalidStatus) as refused:
        LiveClient(data_server.ws_url, "whs_live_nope")
    assert refused.value.response.status_code == 401


def test_hello_tells_the_position_and_limits(live: LiveClient) -> None:
    with live:
        assert live.hello["protocol"] == 1
        assert live.hello["limits"]["max_mutations"] == 1000
        assert len(live.hello["clock"]) == 16


def test_a_subscriber_catches_up_then_receives_changes_as_they_land(
    client: httpx.Client, live: LiveClient
) -> None:
    define(client, "tasks", "id, projectId")
    for number in range(3):
        put(client, "tasks", f"t{number}", projectId=number)
    with live:
        live.subscribe({"tasks": {"cursor": None}})
        live.wait_replica("tasks", {f"t{n}": {"id": f"t{n}", "projectId": n} for n in range(3)})
        assert "tasks" in live.caught_up
        put(client, "tasks", "t9", projectId=9)
        client.delete("/v1/collections/tasks/records/t0")
        live.wait_replica(
            "tasks",
            {
                "t1": {"id": "t1", "projectId": 1},
                "t2": {"id": "t2", "projectId": 2},
                "t9": {"id": "t9", "projectId": 9},
            },
        )


def test_subscribers_of_one_scope_and_of_a_filtered_one_each_get_theirs(
    client: httpx.Client, data_server: ServedApp, tenant: ProvisionedTenant
) -> None:
    define(client, "tasks", "id, projectId")
    put(client, "tasks", "a", projectId=1)
    with (
        LiveClient(data_server.ws_url, tenant.api_key) as everything,
        LiveClient(data_server.ws_url, tenant.api_key) as also_everything,
        LiveClient(data_server.ws_url, tenant.api_key) as project_one,
    ):
        everything.subscribe({"tasks": {}})
        also_everything.subscribe({"tasks": {}})
        project_one.subscribe({"tasks": {"filter": "projectId=eq.1"}})
        for each in (everything, also_everything, project_one):
            each.wait_replica("tasks", {"a": {"id": "a", "projectId": 1}})
        put(client, "tasks", "b", projectId=2)
        client.patch("/v1/collections/tasks/records/a", json={"projectId": 3})
        both = {"a": {"id": "a", "projectId": 3}, "b": {"id": "b", "projectId": 2}}
        everything.wait_replica("tasks", both)
        also_everything.wait_replica("tasks", both)
        project_one.wait_replica("tasks", {})


def test_a_subscriber_resumes_from_its_cursor(
    client: httpx.Client, data_server: ServedApp, tenant: ProvisionedTenant
) -> None:
    define(client, "notes", "id")
    put(client, "notes", "a", text="a")
    with LiveClient(data_server.ws_url, tenant.api_key) as first:
        first.subscribe({"notes": {}})
        first.wait_replica("notes", {"a": {"id": "a", "text": "a"}})
        cursor, replica = first.cursors["notes"], first.replicas["notes"]
    put(client, "notes", "b", text="b")
    with LiveClient(data_server.ws_url, tenant.api_key) as again:
        again.replicas["notes"] = dict(replica)
        again.subscribe({"notes": {"cursor": cursor}})
        again.wait_replica("notes", {"a": {"id": "a", "text": "a"}, "b": {"id": "b", "text": "b"}})
        page = again.wait_for("changes", collection="notes")
        assert page["reset"] is False
        assert [change["key"] for change in page["changes"]] == ["b"]


def test_push_and_pull_as_requests(client: httpx.Client, live: LiveClient) -> None:
    define(client, "notes", "id")
    with live:
        pushed = live.request(
            "push",
            1,
            client="replica-live",
            transactions=[transaction(mutation("notes", "insert", "n", {"text": "hi"}))],
        )
        assert pushed["transactions"][0]["results"][0]["status"] == "applied"
        pulled = live.request("pull", "second", collections={"notes": {"cursor": None}})
        assert [c["key"] for c in pulled["collections"]["notes"]["changes"]] == ["n"]
        live.send({"type": "push", "id": 3, "client": "replica-live"})
        refused = live.wait_for("error", id=3)
        assert refused["error"]["code"] == "invalid_input"
        assert "transactions" in refused["error"]["message"]


def test_a_socket_without_subscription_is_told_of_new_revisions(
    client: httpx.Client, live: LiveClient
) -> None:
    define(client, "notes", "id")
    with live:
        put(client, "notes", "a", text="a")
        notice = live.wait_for("revision")
        assert notice["collections"] == ["notes"]
        assert notice["revision"] > live.hello["revision"]


def test_messages_outside_the_protocol_are_answered_then_the_socket_is_closed(
    live: LiveClient,
) -> None:
    with live:
        live.send("not json")
        assert "JSON" in live.wait_for("error")["error"]["message"]
        live.send({"type": "dance", "id": 7})
        assert live.wait_for("error", id=7)["error"]["code"] == "bad_request"
        live.send({"type": "subscribe", "id": 8, "collections": []})
        assert live.wait_for("error", id=8)["error"]["code"] == "invalid_input"
        for _ in range(8):
            live.socket.send(b"\x00binary")
        assert live.wait_closed() == 4400


def test_revoking_the_key_closes_the_socket(
    dataplane_database: PostgresURL, tenant: ProvisionedTenant, live: LiveClient
) -> None:
    with live:
        revoke_key(dataplane_database, tenant.key_prefix)
        assert live.wait_closed() == 4401

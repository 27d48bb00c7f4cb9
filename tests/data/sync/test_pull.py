"""Pulls: pages by revision cursor, scopes narrowed by filters, deletes of what leaves a scope,
and a fresh start when a cursor can no longer be served."""

from __future__ import annotations

import json

import httpx

from tests.data.collections.records import define
from tests.data.sync.syncing import Replica, mutation, pull, push, transaction
from tests.support.bad_input import assert_clear_error
from tests.support.database import ProvisionedTenant
from tests.support.inspect import query
from webhost.data.sync.pull import BYTE_BUDGET
from webhost.db.urls import PostgresURL


def put(client: httpx.Client, collection: str, key: str, **fields: object) -> None:
    response = client.put(f"/v1/collections/{collection}/records/{key}", json=fields)
    assert response.status_code in {200, 201}, response.text


def test_rest_writes_reach_a_replica_and_deletes_follow(client: httpx.Client) -> None:
    define(client, "tasks", "id, projectId")
    for number in range(5):
        put(client, "tasks", f"t{number}", title=f"task {number}", projectId=number % 2)
    client.delete("/v1/collections/tasks/records/t4")
    replica = Replica(client, "tasks").sync()
    assert sorted(replica.records) == ["t0", "t1", "t2", "t3"]
    assert replica.records["t1"] == {"id": "t1", "title": "task 1", "projectId": 1}
    client.delete("/v1/collections/tasks/records/t1")
    client.patch("/v1/collections/tasks/records/t2", json={"title": "renamed"})
    replica.sync()
    assert sorted(replica.records) == ["t0", "t2", "t3"]
    assert replica.records["t2"]["title"] == "renamed"
    assert replica.resets == 1  # the first sync only


def test_a_first_sync_comes_in_pages_in_revision_order(client: httpx.Client) -> None:
    define(client, "items", "id")
    for batch in range(5):
        push(
            client,
            transaction(
                *[mutation("items", "insert", f"i{batch * 50 + n}", {"n": n}) for n in range(50)]
            ),
        )
    cursor = None
    seen: list[str] = []
    revisions: list[int] = []
    while True:
        part = pull(client, {"items": {"cursor": cursor}}, limit=40)["collections"]["items"]
        assert len(part["changes"]) <= 40
        seen += [change["key"] for change in part["changes"]]
        revisions += [change["revision"] for change in part["changes"]]
        cursor = part["cursor"]
        if not part["more"]:
            break
    assert sorted(seen) == sorted(f"i{n}" for n in range(250))
    assert revisions == sorted(revisions)
    assert pull(client, {"items": {"cursor": cursor}})["collections"]["items"]["changes"] == []


def test_pages_stop_at_the_byte_budget(client: httpx.Client) -> None:
    define(client, "blobs", "id")
    blob = "x" * 60_000  # the test plane takes 64 KiB bodies
    for n in range(90):
        put(client, "blobs", f"b{n}", blob=blob)
    replica = Replica(client, "blobs").sync(limit=5000)
    assert len(replica.records) == 90
    per_page = BYTE_BUDGET // 60_000 + 1
    assert replica.pages >= 90 // per_page


def test_a_scope_sends_matching_records_and_removes_those_that_leave(
    client: httpx.Client,
) -> None:
    define(client, "tasks", "id, projectId")
    for number in range(6):
        put(client, "tasks", f"t{number}", projectId=42 if number < 3 else 7)
    replica = Replica(client, "tasks", "projectId=eq.42").sync()
    assert sorted(replica.records) == ["t0", "t1", "t2"]
    client.patch("/v1/collections/tasks/records/t1", json={"projectId": 7})
    client.patch("/v1/collections/tasks/records/t4", json={"projectId": 42})
    replica.sync()
    assert sorted(replica.records) == ["t0", "t2", "t4"]


def test_a_first_sync_skips_records_outside_its_scope(client: httpx.Client) -> None:
    define(client, "tasks", "id, projectId")
    for number in range(30):
        put(client, "tasks", f"t{number}", projectId=number)
    client.delete("/v1/collections/tasks/records/t3")
    part = pull(client, {"tasks": {"cursor": None, "filter": "projectId=lt.5"}})
    changes = part["collections"]["tasks"]["changes"]
    assert [change["key"] for change in changes] == ["t0", "t1", "t2", "t4"]
    assert all(change["op"] == "put" for change in changes)


def test_a_record_changed_during_a_first_sync_is_removed_if_it_left(
    client: httpx.Client,
) -> None:
    define(client, "tasks", "id, projectId")
    for number in range(10):
        put(client, "tasks", f"t{number}", projectId=1)
    replica = Replica(client, "tasks", "projectId=eq.1")
    first = pull(client, {"tasks": {"cursor": None, "filter": "projectId=eq.1"}}, limit=3)
    part = first["collections"]["tasks"]
    assert part["more"] is True
    replica.records = {change["key"]: change["record"] for change in part["changes"]}
    replica.cursor = part["cursor"]
    client.patch("/v1/collections/tasks/records/t0", json={"projectId": 2})  # sent already
    client.patch("/v1/collections/tasks/records/t9", json={"projectId": 2})  # not sent yet
    replica.sync()
    assert sorted(replica.records) == [f"t{n}" for n in range(1, 9)]


def test_a_cursor_that_cannot_be_served_starts_over(client: httpx.Client) -> None:
    define(client, "notes", "id")
    put(client, "notes", "a", text="a")
    replica = Replica(client, "notes").sync()
    cursor = replica.cursor
    assert cursor is not None
    # another filter
    moved = pull(client, {"notes": {"cursor": cursor, "filter": "text=eq.a"}})["collections"]
    assert moved["notes"]["reset"] is True
    # ahead of the server (a restored database, or another deployment's cursor)
    version, since, base, fingerprint = cursor.split(".")
    ahead = f"{version}.{int(since) + 1000}.{base}.{fingerprint}"
    assert pull(client, {"notes": {"cursor": ahead}})["collections"]["notes"]["reset"] is True
    # the collection was dropped and made again: its old records are gone for good
    assert client.delete("/v1/collections/notes").status_code == 204
    define(client, "notes", "id")
    put(client, "notes", "b", text="b")
    replica.sync()
    assert replica.resets == 2
    assert sorted(replica.records) == ["b"]


def test_what_cannot_be_pulled_is_told_per_collection(client: httpx.Client) -> None:
    define(client, "numbered", "++id")
    define(client, "notes", "id")
    put(client, "notes", "a", text="a")
    answer = pull(
        client,
        {
            "numbered": {"cursor": None},
            "missing": {"cursor": None},
            "badfilter": {"cursor": None, "filter": "x=zz.1"},
            "badcursor": {"cursor": "not-a-cursor"},
            "notes": {"cursor": None},
        },
    )["collections"]
    assert "++id" in answer["numbered"]["error"]["message"]
    assert answer["missing"]["error"]["code"] == "not_found"
    assert "operator" in answer["badfilter"]["error"]["message"]
    assert "cursor" in answer["badcursor"]["error"]["message"]
    assert [change["key"] for change in answer["notes"]["changes"]] == ["a"]


def test_malformed_envelopes_get_clear_errors(client: httpx.Client) -> None:
    assert_clear_error(client.post("/v1/sync/pull", json={"collections": []}), 422)
    assert_clear_error(client.post("/v1/sync/pull", json={"collections": {}, "limit": 0}), 422)
    assert_clear_error(client.post("/v1/sync/push", json={"transactions": []}), 422)
    assert_clear_error(
        client.post("/v1/sync/push", json={"client": "a b", "transactions": []}), 422
    )
    too_many = [{"txid": f"t{n}", "mutations": [{}] * 10} for n in range(101)]
    response = client.post("/v1/sync/push", json={"client": "a", "transactions": too_many})
    assert_clear_error(response, 422)
    assert "1000" in response.json()["error"]["message"]
    assert_clear_error(
        client.post(
            "/v1/sync/push",
            content=b'{"client": "a", "transactions": [',
            headers={"content-type": "application/json"},
        ),
        400,
    )


def test_the_change_log_holds_one_entry_per_record(
    client: httpx.Client, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    define(client, "notes", "id")
    for text in ["a", "b", "c"]:
        put(client, "notes", "n", text=text)
    rows = query(
        dataplane_database,
        f'SELECT key::text FROM "{tenant.tenant.name}"._changes WHERE collection = $1',
        "notes",
    )
    assert [json.loads(row[0]) for row in rows] == ["n"]


def test_a_first_sync_of_a_hundred_thousand_records_comes_in_bounded_pages(
    client: httpx.Client, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    define(client, "points", "id, n")
    schema = f'"{tenant.tenant.name}"'
    # written in bulk as the tenant's tables hold them: the pull is what is under test
    query(
        dataplane_database,
        f"WITH rows AS (INSERT INTO {schema}.c_points (pk, data, stamps, put_stamp) "
        "SELECT to_jsonb('p' || g), jsonb_build_object('n', g, 'label', repeat('x', 40)), "
        "'{}', '0000000000000001' FROM generate_series(1, 100000) AS g RETURNING pk), "
        f"state AS (UPDATE {schema}._sync_state SET revision = revision + 100000 "
        "RETURNING revision) "
        f"INSERT INTO {schema}._changes (collection, key, revision) "
        "SELECT 'points', pk, state.revision - 100000 + row_number() OVER (ORDER BY pk) "
        "FROM rows, state",
    )
    cursor = None
    keys: set[str] = set()
    pages = 0
    while True:
        response = client.post(
            "/v1/sync/pull", json={"collections": {"points": {"cursor": cursor}}, "limit": 5000}
        )
        assert len(response.content) < BYTE_BUDGET + 65_536
        part = response.json()["collections"]["points"]
        assert len(part["changes"]) <= 5000
        keys |= {change["key"] for change in part["changes"]}
        cursor, pages = part["cursor"], pages + 1
        if not part["more"]:
            break
    assert len(keys) == 100_000
    assert pages >= 20

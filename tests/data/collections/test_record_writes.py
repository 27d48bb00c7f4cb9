"""The one write path under REST: keys keep their JSON type, deletes leave tombstones, and every
write that changes a record enters the tenant's change log."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.data.collections.records import define
from tests.support.bad_input import assert_clear_error
from tests.support.database import ProvisionedTenant
from tests.support.inspect import query
from webhost.db.urls import PostgresURL


def change_log(database: PostgresURL, tenant: ProvisionedTenant) -> list[tuple[Any, ...]]:
    return query(
        database,
        f'SELECT collection, key::text, revision FROM "{tenant.tenant.name}"._changes '
        "ORDER BY revision",
    )


def stored_row(
    database: PostgresURL, tenant: ProvisionedTenant, collection: str, key: str
) -> tuple[Any, ...]:
    (row,) = query(
        database,
        f'SELECT data::text, deleted_at IS NOT NULL FROM "{tenant.tenant.name}"."c_{collection}" '
        "WHERE pk = $1::jsonb",
        key,
    )
    return row


def test_number_and_string_keys_are_different_records(client: httpx.Client) -> None:
    define(client, "things", "id")
    records = "/v1/collections/things/records"
    assert client.post(records, json={"id": 42, "kind": "number"}).json() == {
        "id": 42,
        "kind": "number",
    }
    assert client.get(f"{records}/42").json() == {"id": 42, "kind": "number"}
    assert client.post(records, json={"id": "42", "kind": "string"}).status_code == 201
    # in a URL the string reading comes first; filters say which one they mean
    assert client.get(f"{records}/42").json() == {"id": "42", "kind": "string"}
    assert client.get(records, params={"id": "eq.42"}).json() == [{"id": 42, "kind": "number"}]
    assert client.get(records, params={"id": 'eq."42"'}).json() == [{"id": "42", "kind": "string"}]
    assert client.get(records, params={"id": "gt.1"}).json() == [{"id": 42, "kind": "number"}]
    assert_clear_error(client.post(records, json={"id": 42}), 409)
    assert_clear_error(client.post(records, json={"id": True}), 422)
    assert client.put(f"{records}/2.5", json={"id": 2.5}).json() == {"id": 2.5}


def test_a_delete_leaves_a_tombstone_that_blocks_nothing(
    client: httpx.Client, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    define(client, "users", "id, &email")
    records = "/v1/collections/users/records"
    client.post(records, json={"id": "u1", "email": "a@example.com"})
    assert client.delete(f"{records}/u1").status_code == 204
    assert stored_row(dataplane_database, tenant, "users", '"u1"') == ("{}", True)
    assert_clear_error(client.get(f"{records}/u1"), 404)
    assert_clear_error(client.delete(f"{records}/u1"), 404)
    assert_clear_error(client.patch(f"{records}/u1", json={"x": 1}), 404)
    assert client.get(records).json() == []
    # neither its key nor its unique value is taken
    assert client.post(records, json={"id": "u2", "email": "a@example.com"}).status_code == 201
    revived = client.post(records, json={"id": "u1", "email": "b@example.com"})
    assert revived.status_code == 201
    assert revived.json() == {"id": "u1", "email": "b@example.com"}
    assert stored_row(dataplane_database, tenant, "users", '"u1"')[1] is False


def test_every_change_gets_the_next_revision_of_the_tenant(
    client: httpx.Client, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    define(client, "notes", "id")
    define(client, "events", "++id")
    client.post("/v1/collections/notes/records", json={"id": "a"})
    client.post("/v1/collections/events/records", json={"n": 1})
    client.patch("/v1/collections/notes/records/a", json={"text": "x"})
    client.put("/v1/collections/notes/records/b", json={})
    client.delete("/v1/collections/notes/records/b")
    assert change_log(dataplane_database, tenant) == [
        ("events", "1", 2),
        ("notes", '"a"', 3),
        ("notes", '"b"', 5),
    ]


def test_a_generated_key_collection_hands_out_sortable_unique_ids(client: httpx.Client) -> None:
    define(client, "posts", "@id, title")
    ids = [
        client.post("/v1/collections/posts/records", json={"title": n}).json()["id"]
        for n in range(3)
    ]
    assert all(re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{26}", id_) for id_ in ids)
    assert len(set(ids)) == 3
    assert ids[0][:10] <= ids[1][:10] <= ids[2][:10]  # the time part sorts
    chosen = client.post("/v1/collections/posts/records", json={"id": "mine", "title": "x"})
    assert chosen.json() == {"id": "mine", "title": "x"}


def test_a_merge_patch_merges_nested_objects_of_the_stored_record(client: httpx.Client) -> None:
    define(client, "people", "id")
    records = "/v1/collections/people/records"
    client.post(records, json={"id": "p", "address": {"city": "Oslo", "zip": "0150"}, "age": 3})
    patched = client.patch(
        f"{records}/p", json={"address": {"zip": None, "street": "K"}, "age": None}
    )
    assert patched.json() == {"id": "p", "address": {"city": "Oslo", "street": "K"}}


def test_a_patch_that_changes_nothing_answers_the_record_as_it_is(client: httpx.Client) -> None:
    define(client, "quiet", "id")
    records = "/v1/collections/quiet/records"
    client.post(records, json={"id": "q", "title": "kept"})
    for patch in ({}, {"id": "q"}):
        unchanged = client.patch(f"{records}/q", json=patch)
        assert unchanged.status_code == 200, unchanged.text
        assert unchanged.json() == {"id": "q", "title": "kept"}
    assert client.delete(f"{records}/q").status_code == 204
    assert client.patch(f"{records}/q", json={}).status_code == 404

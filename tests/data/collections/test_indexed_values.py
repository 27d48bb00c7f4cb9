"""Ids and indexed values have a documented size; past it a clear 422, never a 500."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import given
from hypothesis import strategies as st

from tests.data.collections.records import all_records, define
from tests.support.bad_input import OVER_HTTP, assert_clear_error, random_text, sized_text
from webhost.data.collections.limits import MAX_INDEXED_BYTES

NOTES = "id, title, &slug, [a+b], *tags"
# a plain, a unique and a compound btree index
INDEXES = st.sampled_from(["title", "&slug", "[a+b]"])
oversized = sized_text(MAX_INDEXED_BYTES + 1, 20_000)
within = sized_text(1, MAX_INDEXED_BYTES)


def in_one_segment(record_id: str) -> bool:
    """Ids a URL path can address: a slash starts another segment, dot segments get resolved."""
    return "/" not in record_id and record_id not in {".", ".."}


def create_notes(client: httpx.Client) -> list[dict[str, Any]]:
    assert define(client, "notes", NOTES).status_code == 201
    created = [
        client.put("/v1/collections/notes/records/n1", json={"title": "one", "slug": "a"}),
        client.put("/v1/collections/notes/records/n2", json={"a": "x", "b": 2, "tags": ["t"]}),
    ]
    assert [response.status_code for response in created] == [201, 201]
    return [response.json() for response in created]


def record_holding(index: str, value: str) -> dict[str, Any]:
    """A record whose value for ``index`` is ``value`` (split in two for the compound index)."""
    if index == "[a+b]":
        half = len(value) // 2
        return {"a": value[:half], "b": value[half:]}
    return {index.lstrip("&"): value}


def test_indexed_values_past_the_limit_get_422_naming_the_index(client: httpx.Client) -> None:
    before = create_notes(client)

    @OVER_HTTP
    @given(method=st.sampled_from(["POST", "PUT", "PATCH"]), index=INDEXES, value=oversized)
    def send(method: str, index: str, value: str) -> None:
        path = "/v1/collections/notes/records" + ("" if method == "POST" else "/n1")
        response = client.request(method, path, json=record_holding(index, value))
        error = assert_clear_error(response, 422)
        assert f"the value for index {index!r} is" in error["message"]
        assert f"at most {MAX_INDEXED_BYTES} bytes" in error["message"]

    send()
    assert all_records(client, "notes") == before


def test_indexed_values_within_the_limit_are_stored_and_found(client: httpx.Client) -> None:
    create_notes(client)

    @OVER_HTTP
    @given(index=INDEXES, value=within)
    def send(index: str, value: str) -> None:
        created = client.post("/v1/collections/notes/records", json=record_holding(index, value))
        assert created.status_code == 201, created.text
        field = {"[a+b]": "a", "&slug": "slug"}.get(index, index)
        found = client.get(
            "/v1/collections/notes/records",
            params={field: "eq." + json.dumps(created.json()[field])},
        )
        assert [record["id"] for record in found.json()] == [created.json()["id"]]
        deleted = client.delete(f"/v1/collections/notes/records/{created.json()['id']}")
        assert deleted.status_code == 204

    send()


def test_unindexed_and_multi_entry_fields_take_large_values(client: httpx.Client) -> None:
    create_notes(client)
    large = random_text(1, 30_000, 3)
    created = client.post("/v1/collections/notes/records", json={"other": large, "tags": [large]})
    assert created.status_code == 201, created.text
    assert client.get(f"/v1/collections/notes/records/{created.json()['id']}").json() == {
        "id": created.json()["id"],
        "other": large,
        "tags": [large],
    }


def test_ids_past_the_limit_cannot_create_records(client: httpx.Client) -> None:
    before = create_notes(client)

    @OVER_HTTP
    @given(record_id=oversized.filter(in_one_segment))
    def send(record_id: str) -> None:
        path = f"/v1/collections/notes/records/{quote(record_id, safe='')}"
        for response in [
            client.post("/v1/collections/notes/records", json={"id": record_id}),
            client.put(path, json={"title": "t"}),
        ]:
            error = assert_clear_error(response, 422)
            assert f"ids may be at most {MAX_INDEXED_BYTES} bytes" in error["message"]
        # looking one up is harmless: there is no such record
        for method in ["GET", "PATCH", "DELETE"]:
            body = {"title": "t"} if method == "PATCH" else None
            assert_clear_error(client.request(method, path, json=body), 404)

    send()
    assert all_records(client, "notes") == before


def test_ids_within_the_limit_work_everywhere(client: httpx.Client) -> None:
    create_notes(client)

    @OVER_HTTP
    @given(record_id=within.filter(in_one_segment))
    def send(record_id: str) -> None:
        path = f"/v1/collections/notes/records/{quote(record_id, safe='')}"
        assert client.put(path, json={"other": 1}).status_code == 201
        assert client.patch(path, json={"other": 2}).json() == {"id": record_id, "other": 2}
        assert client.get(path).json() == {"id": record_id, "other": 2}
        assert client.delete(path).status_code == 204

    send()


def test_an_index_over_values_postgresql_cannot_index_gets_422_and_changes_nothing(
    client: httpx.Client,
) -> None:
    before = create_notes(client)
    too_large = random_text(7, 3_000, 1)  # incompressible, so past PostgreSQL's 2,704 bytes
    stored = client.put("/v1/collections/notes/records/big", json={"other": too_large})
    assert stored.status_code == 201
    for index in ["other", "&other", "[other+title]"]:
        response = define(client, "notes", f"{NOTES}, {index}")
        error = assert_clear_error(response, 422)
        assert f"a value is too large for index {index!r}" in error["message"]
    assert client.get("/v1/collections/notes").json()["schema"] == NOTES
    assert all_records(client, "notes") == [stored.json(), *before]  # ordered by id


def test_values_indexed_after_they_were_stored_do_not_block_other_changes(
    client: httpx.Client,
) -> None:
    create_notes(client)
    large = random_text(3, 2_500, 1)  # past the documented limit, within PostgreSQL's
    client.put("/v1/collections/notes/records/big", json={"other": large, "n": 1})
    assert define(client, "notes", NOTES + ", other").status_code == 200
    patched = client.patch("/v1/collections/notes/records/big", json={"n": 2})
    assert patched.json() == {"id": "big", "other": large, "n": 2}
    changed = client.patch("/v1/collections/notes/records/big", json={"other": large[::-1]})
    assert "the value for index 'other'" in assert_clear_error(changed, 422)["message"]
    assert client.get("/v1/collections/notes/records/big").json() == patched.json()

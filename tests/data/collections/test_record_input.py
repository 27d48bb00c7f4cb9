"""Generated bad record bodies and filters get a clear 4xx; accepted records stay as they were."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import given
from hypothesis import strategies as st

from tests.data.collections.records import JSON, all_records, create_posts, define
from tests.support.bad_input import (
    OVER_HTTP,
    assert_clear_error,
    json_values,
    nested_json_text,
    nul_strings,
    out_of_range_numbers,
    unstorable_json,
)
from webhost.validation import MAX_JSON_DEPTH

WRITES = st.sampled_from(["POST", "PUT", "PATCH"])


def write(client: httpx.Client, method: str, body: str) -> httpx.Response:
    """Send a raw body to the posts collection; PUT and PATCH go to record 1."""
    path = "/v1/collections/posts/records" + ("" if method == "POST" else "/1")
    return client.request(method, path, content=body.encode(), headers=JSON)


def test_bodies_nested_past_the_limit_get_422_naming_it(client: httpx.Client) -> None:
    before = create_posts(client)

    @OVER_HTTP
    @given(method=WRITES, body=nested_json_text(MAX_JSON_DEPTH + 1, 9_000))
    def send(method: str, body: str) -> None:
        error = assert_clear_error(write(client, method, body), 422)
        assert f"more than {MAX_JSON_DEPTH} levels deep" in error["message"]

    send()
    assert all_records(client, "posts") == before


def test_bodies_up_to_the_limit_are_stored_whole(client: httpx.Client) -> None:
    define(client, "deep", "++id")

    @OVER_HTTP
    @given(first=nested_json_text(1, MAX_JSON_DEPTH - 1), then=nested_json_text(1, 8))
    def send(first: str, then: str) -> None:
        created = client.post(
            "/v1/collections/deep/records", content=f'{{"a": {first}}}', headers=JSON
        )
        assert created.status_code == 201, created.text
        path = f"/v1/collections/deep/records/{created.json()['id']}"
        patched = client.patch(path, content=f'{{"b": {then}}}', headers=JSON)
        assert patched.status_code == 200, patched.text
        expected = {"id": created.json()["id"], "a": json.loads(first), "b": json.loads(then)}
        assert client.get(path).json() == expected
        replaced = client.put(path, content=f'{{"a": {first}}}', headers=JSON)
        assert replaced.json() == {"id": created.json()["id"], "a": json.loads(first)}

    send()


def test_nul_in_record_text_gets_422_and_nothing_is_stored(client: httpx.Client) -> None:
    before = create_posts(client)

    @OVER_HTTP
    @given(method=WRITES, value=unstorable_json())
    def send(method: str, value: Any) -> None:
        error = assert_clear_error(write(client, method, json.dumps({"title": value})), 422)
        assert "contains a NUL character (U+0000)" in error["message"]

    send()
    assert all_records(client, "posts") == before


def test_numbers_past_a_double_get_422(client: httpx.Client) -> None:
    before = create_posts(client)

    @OVER_HTTP
    @given(method=WRITES, number=out_of_range_numbers())
    def send(method: str, number: str) -> None:
        error = assert_clear_error(write(client, method, f'{{"n": {number}}}'), 422)
        assert "the number at n is out of range" in error["message"]

    send()
    assert all_records(client, "posts") == before


def test_bodies_that_are_not_objects_get_422(client: httpx.Client) -> None:
    before = create_posts(client)

    @OVER_HTTP
    @given(method=WRITES, value=json_values().filter(lambda value: not isinstance(value, dict)))
    def send(method: str, value: Any) -> None:
        error = assert_clear_error(write(client, method, json.dumps(value)), 422)
        assert "must be a JSON object" in error["message"]

    send()
    assert all_records(client, "posts") == before


def same_to_javascript(stored: Any, sent: Any) -> bool:
    """Equal as JavaScript reads them: PostgreSQL writes 1e308 as 1000...0, the same double."""
    if isinstance(sent, float) or (isinstance(stored, float) and isinstance(sent, int)):
        return isinstance(stored, int | float) and float(stored) == float(sent)
    if isinstance(sent, list):
        return (
            isinstance(stored, list)
            and len(stored) == len(sent)
            and all(same_to_javascript(a, b) for a, b in zip(stored, sent, strict=True))
        )
    if isinstance(sent, dict):
        return (
            isinstance(stored, dict)
            and stored.keys() == sent.keys()
            and all(same_to_javascript(stored[key], sent[key]) for key in sent)
        )
    return bool(stored == sent) and type(stored) is type(sent)


def test_any_json_jsonb_can_hold_round_trips(client: httpx.Client) -> None:
    define(client, "anything", "++id")

    @OVER_HTTP
    @given(value=json_values(), big=st.integers(-(10**4000), 10**4000))
    def send(value: Any, big: int) -> None:
        created = client.post("/v1/collections/anything/records", json={"v": value, "big": big})
        assert created.status_code == 201, created.text
        stored = client.get(f"/v1/collections/anything/records/{created.json()['id']}").json()
        assert stored["big"] == big
        assert same_to_javascript(stored["v"], value)

    send()


def test_integers_past_the_parser_limit_get_400(client: httpx.Client) -> None:
    before = create_posts(client)

    @OVER_HTTP
    @given(method=WRITES, digits=st.integers(4_301, 20_000))
    def send(method: str, digits: int) -> None:
        error = assert_clear_error(write(client, method, f'{{"n": {"9" * digits}}}'), 400)
        assert "not valid JSON" in error["message"]

    send()
    assert all_records(client, "posts") == before


def test_contains_filters_nested_past_the_limit_get_422(client: httpx.Client) -> None:
    create_posts(client)

    @OVER_HTTP
    @given(value=nested_json_text(MAX_JSON_DEPTH + 1, 3_000), negated=st.booleans())
    def send(value: str, negated: bool) -> None:
        operator = "not.cs." if negated else "cs."
        response = client.get("/v1/collections/posts/records", params={"title": operator + value})
        error = assert_clear_error(response, 422)
        assert (
            f"filter title nests objects and arrays more than {MAX_JSON_DEPTH}"
            in (error["message"])
        )

    send()


def filter_expression(operator: str, value: str) -> str:
    if operator == "in":
        return f"in.({json.dumps(value)})"
    if operator == "cs":
        return f"cs.{json.dumps([value])}"
    return f"{operator}.{value}"


def test_filters_with_nul_get_422(client: httpx.Client) -> None:
    before = create_posts(client)

    @OVER_HTTP
    @given(
        field=st.sampled_from(["title", "updatedAt", "unindexed", "a.b"]),
        operator=st.sampled_from(["eq", "neq", "gt", "lte", "like", "ilike", "in", "cs"]),
        value=nul_strings(),
    )
    def send(field: str, operator: str, value: str) -> None:
        params = {field: filter_expression(operator, value)}
        error = assert_clear_error(client.get("/v1/collections/posts/records", params=params), 422)
        assert "contains a NUL character (U+0000)" in error["message"]

    send()
    assert all_records(client, "posts") == before


def test_filters_with_numbers_out_of_range_get_422(client: httpx.Client) -> None:
    create_posts(client)

    @OVER_HTTP
    @given(
        operator=st.sampled_from(["eq", "neq", "gt", "gte", "lt", "lte"]),
        number=out_of_range_numbers(),
    )
    def send(operator: str, number: str) -> None:
        params = {"updatedAt": f"{operator}.{number}"}
        error = assert_clear_error(client.get("/v1/collections/posts/records", params=params), 422)
        assert "out of range" in error["message"]

    send()


def test_hostile_filters_never_fail_the_server(client: httpx.Client) -> None:
    before = create_posts(client)
    raw_values = st.one_of(
        st.text(),
        st.integers().map(str),
        st.integers(1, 20_000).map(lambda digits: "9" * digits),
        nul_strings(),
        nested_json_text(1, 2_000),
    )

    @OVER_HTTP
    @given(
        field=st.one_of(st.sampled_from(["title", "id", "updatedAt", "a.b"]), st.text()),
        operator=st.sampled_from(
            ["eq", "neq", "gt", "gte", "lt", "lte", "like", "ilike", "in", "is", "cs", "not.eq"]
        ),
        value=raw_values,
    )
    def send(field: str, operator: str, value: str) -> None:
        response = client.get(
            "/v1/collections/posts/records", params={field: f"{operator}.{value}"}
        )
        if response.status_code != 200:
            assert_clear_error(response)

    send()
    assert all_records(client, "posts") == before


def path_segment(text: str) -> str:
    return quote(text, safe="")


# a slash would make the path another route
segments_with_nul = nul_strings().filter(lambda text: "/" not in text)


def test_record_ids_with_nul_get_422(client: httpx.Client) -> None:
    assert define(client, "notes", "id, &slug").status_code == 201
    kept = client.put("/v1/collections/notes/records/n1", json={"slug": "a"}).json()

    @OVER_HTTP
    @given(method=st.sampled_from(["GET", "PUT", "PATCH", "DELETE"]), record_id=segments_with_nul)
    def send(method: str, record_id: str) -> None:
        body = {"slug": "b"} if method in {"PUT", "PATCH"} else None
        path = f"/v1/collections/notes/records/{path_segment(record_id)}"
        error = assert_clear_error(client.request(method, path, json=body), 422)
        assert "id contains a NUL character (U+0000)" in error["message"]

    send()
    assert all_records(client, "notes") == [kept]


def test_collection_names_with_nul_get_422(client: httpx.Client) -> None:
    before = create_posts(client)

    @OVER_HTTP
    @given(
        route=st.sampled_from(
            [("PUT", ""), ("GET", ""), ("DELETE", ""), ("GET", "/records"), ("POST", "/records")]
        ),
        name=segments_with_nul,
    )
    def send(route: tuple[str, str], name: str) -> None:
        method, suffix = route
        body = {"schema": "++id"} if method == "PUT" else {} if method == "POST" else None
        path = f"/v1/collections/{path_segment(name)}{suffix}"
        error = assert_clear_error(client.request(method, path, json=body), 422)
        assert "invalid collection name" in error["message"]

    send()
    assert all_records(client, "posts") == before

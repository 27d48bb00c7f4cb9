from __future__ import annotations

import httpx
import pytest
from hypothesis import given

from tests.data.collections.records import create_posts, define
from tests.support.bad_input import OVER_HTTP, json_media_types


def test_create_list_filter_update_delete(client: httpx.Client) -> None:
    first, _second, third = create_posts(client)
    assert first == {"id": 1, "title": "Hello", "authorId": "ann", "updatedAt": 1}

    hello = client.get("/v1/collections/posts/records", params={"title": "eq.Hello"}).json()
    assert [record["id"] for record in hello] == [first["id"]]
    recent = client.get("/v1/collections/posts/records?updatedAt=gt.1&order=updatedAt.desc")
    assert [record["title"] for record in recent.json()] == ["Hi", "World"]
    by_author = client.get("/v1/collections/posts/records?authorId=in.(ann,carl)&order=id")
    assert [record["id"] for record in by_author.json()] == [first["id"], third["id"]]
    page = client.get("/v1/collections/posts/records?order=id&limit=1&offset=1").json()
    assert [record["title"] for record in page] == ["World"]

    patched = client.patch(f"/v1/collections/posts/records/{first['id']}", json={"title": "Hey"})
    assert patched.status_code == 200
    assert patched.json() == {"id": 1, "title": "Hey", "authorId": "ann", "updatedAt": 1}
    removed_field = client.patch("/v1/collections/posts/records/1", json={"authorId": None})
    assert "authorId" not in removed_field.json()
    assert client.get("/v1/collections/posts/records/1").json()["title"] == "Hey"

    assert client.delete("/v1/collections/posts/records/1").status_code == 204
    assert client.get("/v1/collections/posts/records/1").status_code == 404
    assert client.delete("/v1/collections/posts/records/1").status_code == 404


def test_client_chosen_keys_and_put_upserts(client: httpx.Client) -> None:
    assert define(client, "notes", "id, &slug, *tags").status_code == 201
    created = client.post("/v1/collections/notes/records", json={"id": "n1", "slug": "a"})
    assert created.json() == {"id": "n1", "slug": "a"}
    generated = client.post("/v1/collections/notes/records", json={"slug": "b"}).json()
    assert len(generated["id"]) == 36

    put = client.put("/v1/collections/notes/records/n2", json={"slug": "c", "tags": ["x", "y"]})
    assert put.status_code == 201
    replaced = client.put("/v1/collections/notes/records/n2", json={"slug": "c", "tags": ["z"]})
    assert replaced.status_code == 200
    assert replaced.json()["tags"] == ["z"]
    tagged = client.get("/v1/collections/notes/records", params={"tags": "eq.z"}).json()
    assert [record["id"] for record in tagged] == ["n2"]

    duplicate_key = client.post("/v1/collections/notes/records", json={"id": "n1"})
    assert duplicate_key.status_code == 409
    assert "already exists" in duplicate_key.json()["error"]["message"]
    duplicate_slug = client.post("/v1/collections/notes/records", json={"slug": "a"})
    assert duplicate_slug.status_code == 409
    assert "unique index '&slug'" in duplicate_slug.json()["error"]["message"]


def test_explicit_ids_in_auto_increment_collections_are_not_reused(client: httpx.Client) -> None:
    define(client, "events", "++id")
    assert client.post("/v1/collections/events/records", json={"id": 10}).json()["id"] == 10
    assert client.post("/v1/collections/events/records", json={}).json()["id"] == 11


def test_schema_evolution_adds_and_drops_indexes(client: httpx.Client) -> None:
    create_posts(client)
    evolved = define(client, "posts", "++id, title, &slug, [authorId+updatedAt]")
    assert evolved.status_code == 200
    assert [index["source"] for index in evolved.json()["indexes"]] == [
        "title",
        "&slug",
        "[authorId+updatedAt]",
    ]
    assert client.get("/v1/collections/posts").json()["schema"] == evolved.json()["schema"]
    records = client.get("/v1/collections/posts/records").json()
    assert len(records) == 3
    changed_key = define(client, "posts", "id, title")
    assert changed_key.status_code == 409
    assert "cannot change" in changed_key.json()["error"]["message"]


def test_unique_index_over_duplicates_is_refused_and_nothing_changes(client: httpx.Client) -> None:
    create_posts(client)
    response = define(client, "posts", "++id, &authorId")
    assert response.status_code == 409
    unchanged = client.get("/v1/collections/posts").json()
    assert unchanged["schema"] == "++id, title, authorId, updatedAt"


def test_collections_are_listed_and_dropped(client: httpx.Client) -> None:
    define(client, "a", "++id")
    define(client, "b", "id")
    assert [c["name"] for c in client.get("/v1/collections").json()] == ["a", "b"]
    assert client.delete("/v1/collections/a").status_code == 204
    assert client.get("/v1/collections/a/records").status_code == 404
    assert [c["name"] for c in client.get("/v1/collections").json()] == ["b"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "problem"),
    [
        ("PUT", "/v1/collections/posts", {"schema": "++id,,x"}, 422, "entry 2 is empty"),
        ("PUT", "/v1/collections/posts", {"schema": 5}, 422, "schema"),
        ("PUT", "/v1/collections/posts", {}, 422, "schema"),
        ("PUT", "/v1/collections/bad name", {"schema": "++id"}, 422, "invalid collection name"),
        ("GET", "/v1/collections/unknown/records", None, 404, "does not exist"),
        ("POST", "/v1/collections/unknown/records", {"a": 1}, 404, "does not exist"),
        ("POST", "/v1/collections/posts/records", [1, 2], 422, "must be a JSON object"),
        ("POST", "/v1/collections/posts/records", {"id": "x"}, 422, "id must be an integer"),
        ("GET", "/v1/collections/posts/records/abc", None, 422, "id is an integer"),
        ("GET", "/v1/collections/posts/records?title=Hello", None, 422, "needs an operator"),
        ("GET", "/v1/collections/posts/records?limit=0", None, 422, "limit"),
        ("PATCH", "/v1/collections/posts/records/1", {"id": 2}, 422, "cannot be changed"),
        ("POST", "/v1/collections/posts/records", {"t": "a\u0000b"}, 422, "t contains a NUL"),
    ],
)
def test_bad_input_gets_a_clear_error(
    client: httpx.Client,
    method: str,
    path: str,
    body: object,
    status: int,
    problem: str,
) -> None:
    create_posts(client)
    response = client.request(method, path, json=body)
    assert response.status_code == status, response.text
    assert problem in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("content", "content_type", "problem"),
    [
        (b"{not json", "application/json", "not valid JSON"),
        (b'{"n": NaN}', "application/json", "not valid JSON"),
        (b"", "application/json", "empty"),
        (b"\xff\xfe", "application/json", "UTF-8"),
        (b"title=x", "application/x-www-form-urlencoded", "application/json"),
    ],
)
def test_unparseable_bodies_are_refused(
    client: httpx.Client, content: bytes, content_type: str, problem: str
) -> None:
    create_posts(client)
    response = client.post(
        "/v1/collections/posts/records", content=content, headers={"content-type": content_type}
    )
    assert response.status_code == 400
    assert problem in response.json()["error"]["message"]
    invalid_definition = client.put(
        "/v1/collections/posts", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert invalid_definition.status_code == 400
    assert "not valid JSON" in invalid_definition.json()["error"]["message"]


def test_oversized_body_is_refused_and_nothing_is_stored(client: httpx.Client) -> None:
    create_posts(client)
    response = client.post("/v1/collections/posts/records", json={"blob": "x" * 70_000})
    assert response.status_code == 413
    assert "larger than the limit" in response.json()["error"]["message"]
    assert len(client.get("/v1/collections/posts/records").json()) == 3


@OVER_HTTP
@given(content_type=json_media_types())
def test_json_media_types_are_accepted_in_any_letter_case(
    client: httpx.Client, content_type: str
) -> None:
    headers = {"content-type": content_type}
    defined = client.put("/v1/collections/cased", content=b'{"schema": "++id"}', headers=headers)
    assert defined.status_code in {200, 201}, defined.text
    created = client.post("/v1/collections/cased/records", content=b'{"a": 1}', headers=headers)
    assert created.status_code == 201, created.text
    record_path = f"/v1/collections/cased/records/{created.json()['id']}"
    assert client.put(record_path, content=b'{"a": 2}', headers=headers).status_code == 200
    assert client.patch(record_path, content=b'{"b": 3}', headers=headers).json() == {
        "id": created.json()["id"],
        "a": 2,
        "b": 3,
    }

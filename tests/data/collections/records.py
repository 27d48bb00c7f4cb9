"""Small factories of collections and records, made through the data-plane API."""

from __future__ import annotations

from typing import Any

import httpx

JSON = {"content-type": "application/json"}


def define(client: httpx.Client, name: str, schema: str) -> httpx.Response:
    return client.put(f"/v1/collections/{name}", json={"schema": schema})


def create_posts(client: httpx.Client) -> list[dict[str, Any]]:
    assert define(client, "posts", "++id, title, authorId, updatedAt").status_code == 201
    created = []
    for number, (title, author) in enumerate([("Hello", "ann"), ("World", "bob"), ("Hi", "ann")]):
        response = client.post(
            "/v1/collections/posts/records",
            json={"title": title, "authorId": author, "updatedAt": number + 1},
        )
        assert response.status_code == 201, response.text
        created.append(response.json())
    return created


def all_records(client: httpx.Client, collection: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/collections/{collection}/records", params={"limit": 1000})
    assert response.status_code == 200, response.text
    records: list[dict[str, Any]] = response.json()
    return records

"""Factories of sync requests, sent through the data plane's HTTP API as a client would."""

from __future__ import annotations

import itertools
import time
import uuid
from typing import Any

import httpx

_counter = itertools.count()


def stamp(offset_ms: int = 0, counter: int = 0) -> str:
    """A client HLC stamp: 12 hex digits of milliseconds and 4 of counter."""
    return f"{int(time.time() * 1000) + offset_ms:012x}{counter:04x}"


def new_txid() -> str:
    return f"tx-{uuid.uuid4().hex}"


def mutation(
    collection: str, op: str, key: Any, fields: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    built: dict[str, Any] = {"collection": collection, "op": op, "key": key}
    if fields is not None:
        built["fields"] = fields
    built.setdefault("stamp", stamp(counter=next(_counter) % 65536))
    built.update(extra)
    return built


def transaction(*mutations: dict[str, Any], txid: str | None = None) -> dict[str, Any]:
    return {"txid": txid or new_txid(), "mutations": list(mutations)}


def push(
    client: httpx.Client, *transactions: dict[str, Any], client_id: str = "replica-a"
) -> dict[str, Any]:
    response = client.post(
        "/v1/sync/push", json={"client": client_id, "transactions": list(transactions)}
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def results(answer: dict[str, Any]) -> list[dict[str, Any]]:
    return [result for txn in answer["transactions"] for result in txn["results"]]


def pull(
    client: httpx.Client, scopes: dict[str, dict[str, Any]], limit: int | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"collections": scopes}
    if limit is not None:
        body["limit"] = limit
    response = client.post("/v1/sync/pull", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


class Replica:
    """What a client holds of one collection, kept by pulling until there is no more."""

    def __init__(self, client: httpx.Client, collection: str, filter_text: str | None = None):
        self.client = client
        self.collection = collection
        self.filter = filter_text
        self.cursor: str | None = None
        self.records: dict[Any, dict[str, Any]] = {}
        self.pages = 0
        self.resets = 0

    def sync(self, limit: int | None = None) -> Replica:
        while True:
            scope = {"cursor": self.cursor, "filter": self.filter}
            part = pull(self.client, {self.collection: scope}, limit)["collections"][
                self.collection
            ]
            assert "error" not in part, part
            self.pages += 1
            if part["reset"]:
                self.resets += 1
                self.records.clear()
            for change in part["changes"]:
                key = change["key"]
                if change["op"] == "put":
                    self.records[key] = change["record"]
                else:
                    self.records.pop(key, None)
            self.cursor = part["cursor"]
            if not part["more"]:
                return self

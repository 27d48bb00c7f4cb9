"""The REST API of a data plane: collections and their records, with REST's filter syntax."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from webhost.client.records import Key, Record
from webhost.client.transport import json_body, request

Filters = str | Mapping[str, str] | Sequence[tuple[str, str]]


@dataclass(frozen=True)
class CollectionInfo:
    name: str
    schema: str
    primary_key: str
    auto_increment: bool
    indexes: tuple[str, ...]  # each index as written in the schema

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> CollectionInfo:
        return cls(
            name=body["name"],
            schema=body["schema"],
            primary_key=body["primaryKey"],
            auto_increment=body["autoIncrement"],
            indexes=tuple(index["source"] for index in body["indexes"]),
        )


class RestApi:
    """Collections and records over HTTP; each call reaches the server or raises."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def define_collection(self, name: str, schema: str) -> CollectionInfo:
        """Create the collection, or evolve its indexes (the primary key cannot change)."""
        response = await request(
            self._http, "PUT", f"/v1/collections/{_segment(name)}", json={"schema": schema}
        )
        return CollectionInfo.from_json(json_body(response))

    async def get_collection(self, name: str) -> CollectionInfo:
        response = await request(self._http, "GET", f"/v1/collections/{_segment(name)}")
        return CollectionInfo.from_json(json_body(response))

    async def list_collections(self) -> list[CollectionInfo]:
        response = await request(self._http, "GET", "/v1/collections")
        return [CollectionInfo.from_json(body) for body in json_body(response)]

    async def drop_collection(self, name: str) -> None:
        await request(self._http, "DELETE", f"/v1/collections/{_segment(name)}")

    async def sync_position(self) -> dict[str, Any]:
        """``GET /v1/sync``: the protocol version, the tenant's revision and clock, the limits."""
        body: dict[str, Any] = json_body(await request(self._http, "GET", "/v1/sync"))
        return body

    def records(self, collection: str) -> RestRecords:
        return RestRecords(self._http, collection)


class RestRecords:
    """The records of one collection, as the server has them now."""

    def __init__(self, http: httpx.AsyncClient, collection: str) -> None:
        self._http = http
        self.collection = collection
        self._path = f"/v1/collections/{_segment(collection)}/records"

    async def create(self, record: Record) -> Record:
        """A new record; the server makes its key when the record has none."""
        response = await request(self._http, "POST", self._path, json=record)
        return _record(response)

    async def get(self, key: Key) -> Record:
        return _record(await request(self._http, "GET", self._key_path(key)))

    async def put(self, key: Key, record: Record) -> Record:
        """Create or replace the record under ``key``."""
        return _record(await request(self._http, "PUT", self._key_path(key), json=record))

    async def patch(self, key: Key, patch: Record) -> Record:
        """A JSON merge patch: ``None`` removes a field, objects merge."""
        return _record(await request(self._http, "PATCH", self._key_path(key), json=patch))

    async def delete(self, key: Key) -> None:
        await request(self._http, "DELETE", self._key_path(key))

    async def list(
        self,
        filters: Filters = (),
        *,
        order: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> list[Record]:
        """``filters`` in REST's syntax: ``"done=is.false&priority=gt.2"`` or pairs of them."""
        params = httpx.QueryParams(
            filters if isinstance(filters, str | Mapping) else tuple(filters)
        )
        for name, value in (("order", order), ("limit", limit), ("offset", offset)):
            if value is not None:
                params = params.add(name, str(value))
        records = json_body(await request(self._http, "GET", self._path, params=params))
        return [record for record in records if isinstance(record, dict)]

    def _key_path(self, key: Key) -> str:
        return f"{self._path}/{_segment(str(key))}"


def _segment(value: str) -> str:
    """Any text as one path segment: slashes, spaces and percent signs included."""
    return quote(value, safe="")


def _record(response: httpx.Response) -> Record:
    body = json_body(response)
    if not isinstance(body, dict):
        raise TypeError(f"expected a record (a JSON object), got {type(body).__name__}")
    return body

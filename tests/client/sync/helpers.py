"""Waiting for replicas and the server to agree, with deadlines that only bound a failure."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.support.polling import eventually
from webhost.client import LocalCollection, WebHostClient
from webhost.client.records import Record

SYNC_SECONDS = 30


async def synced(*clients: WebHostClient) -> None:
    """Each client pushed everything and pulled what the server had when it was asked."""
    for client in clients:
        await asyncio.wait_for(client.sync_now(), SYNC_SECONDS)


async def server_records(client: WebHostClient, collection: str) -> list[Record]:
    """The collection as the server has it, read through REST, in key order."""
    records = await client.rest.records(collection).list(limit=1000)
    return sorted(records, key=lambda record: str(record[_key_name(record)]))


async def shows(collection: LocalCollection, expected: list[Record] | Any, **where: Any) -> None:
    """Wait until the replica's records (matching ``where``) are ``expected``."""
    last: list[Record] = []

    async def check() -> bool:
        nonlocal last
        last = await collection.where(**where)
        return last == expected

    try:
        await eventually(check, within=SYNC_SECONDS, message=f"replica of {collection.name}")
    except AssertionError as failure:
        raise AssertionError(f"{collection.name} shows {last}, expected {expected}") from failure


def _key_name(record: Record) -> str:
    return "id" if "id" in record else next(iter(record))

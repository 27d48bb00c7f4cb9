"""A Python client and a JavaScript SDK client sync the same collection: each sees the other's
records, and a record both edit ends the same on both, field by field."""

from __future__ import annotations

import asyncio
import json
import subprocess
from typing import Any

from tests.client.conftest import Connect
from tests.support.database import ProvisionedTenant
from tests.support.polling import eventually
from tests.support.sdk import SDK, needs_sdk
from tests.support.servers import ServedApp

PEER = SDK / "test" / "support" / "peer.mjs"

pytestmark = needs_sdk


async def javascript_peer(
    data_server: ServedApp,
    tenant: ProvisionedTenant,
    wait_for: dict[str, dict[str, Any]],
    writes: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Run the SDK peer to the end: it waits for records, writes, syncs; its replica after."""
    process = await asyncio.create_subprocess_exec(
        "node",
        str(PEER),
        data_server.url,
        data_server.ws_url,
        tenant.api_key,
        "peer",
        json.dumps(wait_for),
        json.dumps(writes),
        cwd=SDK,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=90)
    assert process.returncode == 0, err.decode()[-2000:]
    records: list[dict[str, Any]] = json.loads(out.decode().strip().splitlines()[-1])
    return records


def test_a_python_client_and_an_sdk_client_sync_each_other(
    connect: Connect, data_server: ServedApp, tenant: ProvisionedTenant
) -> None:
    async def scenario() -> None:
        async with connect() as python:
            await python.rest.define_collection("notes", "@id, author")
            notes = await python.replicate("notes")
            await notes.put({"id": "shared", "text": "from python", "pythonSide": True})
            await notes.insert({"id": "py-1", "author": "python"})
            await asyncio.wait_for(python.synced(), timeout=30)
            # the SDK client sees Python's records, edits the shared one and adds its own
            seen_by_js = await javascript_peer(
                data_server,
                tenant,
                wait_for={"py-1": {"author": "python"}, "shared": {"pythonSide": True}},
                writes=[
                    {"op": "put", "record": {"id": "js-1", "author": "javascript"}},
                    {"op": "update", "key": "shared", "changes": {"javascriptSide": True}},
                ],
            )
            keys_seen_by_js = sorted(record["id"] for record in seen_by_js)
            assert keys_seen_by_js == ["js-1", "py-1", "shared"]
            await notes.update("shared", {"text": "edited in python"})

            async def both_edits_arrived() -> bool:
                await python.sync_now()
                shared = await notes.get("shared")
                return await notes.get("js-1") is not None and bool(
                    shared and shared.get("javascriptSide") and shared["text"] == "edited in python"
                )

            await eventually(both_edits_arrived, within=30, message="the SDK client's edits")
            in_python = sorted(await notes.all(), key=lambda record: record["id"])
            # and a new SDK client (its IndexedDB lives in memory) syncs to the same records
            seen_again = await javascript_peer(
                data_server,
                tenant,
                wait_for={"shared": {"text": "edited in python", "javascriptSide": True}},
                writes=[],
            )
            assert sorted(seen_again, key=lambda record: record["id"]) == in_python
            assert in_python == sorted(
                await python.rest.records("notes").list(), key=lambda record: record["id"]
            )

    asyncio.run(scenario())

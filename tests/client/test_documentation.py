"""The example of docs/python-client.md, run as written against a real data plane."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from pathlib import Path
from typing import Any

from tests.data.yjs.peers import WirePeer
from tests.support.clients import api_client
from tests.support.database import ProvisionedTenant
from tests.support.servers import ServedApp

GUIDE = Path(__file__).parents[2] / "docs" / "python-client.md"


def example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), flags=re.DOTALL)
    assert len(blocks) == 1, "the guide has one example"
    return str(blocks[0])


def test_the_guide_example_runs_and_does_what_it_says(
    data_server: ServedApp, tenant: ProvisionedTenant, tmp_path: Path
) -> None:
    namespace: dict[str, Any] = {"__name__": "guide"}
    exec(compile(example(), str(GUIDE), "exec"), namespace)  # noqa: S102 - our own documentation
    replica = tmp_path / "tasks.db"
    asyncio.run(
        namespace["main"](data_server.url, data_server.ws_url, tenant.api_key, str(replica))
    )

    with api_client(data_server.url, tenant.api_key) as client:
        tasks = client.get("/v1/collections/tasks/records", params={"order": "title"}).json()
    assert [(task["title"], task["done"], task["projectId"]) for task in tasks] == [
        ("Publish", False, 42),
        ("Review docs", False, 42),
        ("Write docs", True, 42),
    ]
    with sqlite3.connect(replica) as stored:
        assert stored.execute("SELECT count(*) FROM outbox").fetchone() == (0,)
        assert stored.execute("SELECT count(*) FROM records_tasks").fetchone() == (3,)
    with WirePeer.connect(data_server.ws_url, "meeting-notes", tenant.api_key) as peer:
        peer.wait_synced()
        assert peer.shared_text("text") == "Agenda: sync"

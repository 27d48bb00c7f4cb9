"""README's SDK example, run against a data plane as an app would run it."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.support.clients import api_client
from tests.support.database import ProvisionedTenant
from tests.support.polling import wait_until
from tests.support.sdk import needs_sdk, run_sdk_program
from tests.support.servers import ServedApp

ROOT = Path(__file__).resolve().parents[1]


def readme_example(heading: str) -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split(heading, 1)[1]
    found = re.search(r"```js\n(.*?)```", section, re.DOTALL)
    assert found, f"no js example under {heading!r}"
    return found.group(1)


@needs_sdk
def test_the_readme_sdk_example_syncs_its_writes(
    data_server: ServedApp, tenant: ProvisionedTenant
) -> None:
    example = readme_example("### Offline-first records: the SDK")
    program = "\n".join(
        [
            f"const API_URL = '{data_server.url}'",
            f"const SYNC_URL = '{data_server.ws_url}'",
            f"const API_KEY = '{tenant.api_key}'",
            example,
            "await client.sync()",
            "await client.close()",
        ]
    )
    ran = run_sdk_program(program)
    assert ran.returncode == 0, ran.stderr[-2000:]
    with api_client(data_server.url, tenant.api_key) as data:
        tasks: list[dict[str, object]] = wait_until(
            lambda: _records(data, "tasks"), message="the example's task"
        )
    assert [(task["title"], task["projectId"], task["done"]) for task in tasks] == [
        ("Write docs", 42, False)
    ]


def _records(client: httpx.Client, collection: str) -> list[dict[str, object]]:
    response = client.get(f"/v1/collections/{collection}/records")
    return response.json() if response.status_code == 200 else []

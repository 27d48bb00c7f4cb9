"""README's SDK example, run against a data plane as an app would run it."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import httpx
import pytest

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


def readme_shell(heading: str) -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split(heading, 1)[1]
    found = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert found, f"no sh example under {heading!r}"
    return found.group(1)


def test_the_readme_fleet_example_runs_as_written(
    data_server: ServedApp, tenant: ProvisionedTenant
) -> None:
    script = readme_shell("### Fleet tracking")
    ran = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        env={**os.environ, "API_URL": data_server.url, "API_KEY": tenant.api_key},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 0, ran.stderr
    # curl prints the answers back to back: the batch's, OsmAnd's (empty), the latest positions
    decoder = json.JSONDecoder()
    answer, end = decoder.raw_decode(ran.stdout)
    latest, end = decoder.raw_decode(ran.stdout, end)
    assert ran.stdout[end:].strip() == ""
    assert (answer["accepted"], answer["duplicates"]) == (2, 0)
    assert [r["index"] for r in answer["rejected"]] == [2]
    assert "latitude" in answer["rejected"][0]["reason"]
    vehicles = {v["identifier"]: v for v in latest}
    assert vehicles["truck-7"]["latitude"] == 52.521
    assert vehicles["van-3"]["speed"] == pytest.approx(10.8 * 1.852)

"""The simulator against a real data plane: every point it sends is stored, through OsmAnd
and through batches, and the command shows its summary (or one line of error)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import httpx

from tests.support.clients import api_client
from tests.support.database import ProvisionedTenant
from tests.support.inspect import query
from tests.support.servers import ServedApp
from webhost.db.urls import PostgresURL
from webhost.simulator.run import Simulation, simulate


def stored_points(database: PostgresURL, tenant: ProvisionedTenant) -> int:
    rows = query(database, f'SELECT count(*) FROM "{tenant.tenant.name}".fleet_positions')
    return int(rows[0][0])


def test_osmand_and_batch_runs_store_every_point(
    data_server: ServedApp, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    osmand = asyncio.run(
        simulate(Simulation(url=data_server.url, key=tenant.api_key, vehicles=3, rate=0, points=30))
    )
    assert (osmand.sent, osmand.accepted, osmand.failed_requests) == (30, 30, 0)
    batches = asyncio.run(
        simulate(
            Simulation(
                url=data_server.url,
                key=tenant.api_key,
                vehicles=4,
                rate=0,
                points=400,
                protocol="batch",
                batch_size=150,
                senders=2,
                prefix="truck",
            )
        )
    )
    assert (batches.sent, batches.accepted, batches.duplicates, batches.rejected) == (
        400,
        400,
        0,
        0,
    )
    assert stored_points(dataplane_database, tenant) == 430
    with api_client(data_server.url, tenant.api_key) as client:
        latest = client.get("/v1/fleet/latest").json()
    assert sorted(v["identifier"] for v in latest) == [
        *(f"sim-{n:04d}" for n in range(1, 4)),
        *(f"truck-{n:04d}" for n in range(1, 5)),
    ]


def test_a_paced_run_reports_live_positions(
    data_server: ServedApp, tenant: ProvisionedTenant
) -> None:
    tally = asyncio.run(
        simulate(
            Simulation(url=data_server.url, key=tenant.api_key, vehicles=2, rate=20, points=20)
        )
    )
    assert tally.accepted == 20
    assert tally.elapsed >= 0.8  # 20 points at 20 a second
    with httpx.Client(base_url=data_server.url) as client:
        latest = client.get(
            "/v1/fleet/latest", headers={"Authorization": f"Bearer {tenant.api_key}"}
        ).json()
    assert len(latest) == 2


def run_command(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "webhost", "simulate-fleet", *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "160"},
    )


def test_the_command_shows_a_summary_and_errors_in_one_line(
    data_server: ServedApp, tenant: ProvisionedTenant
) -> None:
    ran = run_command(
        "--url", data_server.url, "--key", tenant.api_key, "--vehicles", "2", "--rate", "0",
        "--points", "10", "--protocol", "batch", "--batch-size", "5",
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert "points sent" in ran.stdout
    assert "10" in ran.stdout
    wrong_key = run_command(
        "--url", data_server.url, "--key", "whs_live_nope", "--points", "2", "--rate", "0"
    )
    assert wrong_key.returncode == 1
    assert "401" in wrong_key.stdout
    bad = run_command("--url", data_server.url, "--key", "k", "--protocol", "carrier-pigeon")
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0
    assert "osmand or batch" in bad.stderr
    assert "Traceback" not in bad.stderr + wrong_key.stderr

"""A step that fails for good is rolled back; a worker killed mid-step is recovered."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.factories import sign_up
from tests.support.inspect import (
    databases_named,
    dataplane_pids,
    query,
    roles_named,
    schemas_named,
    stop_process,
)
from tests.support.platform import PlatformThread, start_platform, wait_for_deployment
from tests.support.polling import wait_until
from webhost.db.urls import PostgresURL
from webhost.runtime import Components

REPOSITORY = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def failing_platform(
    postgres_server: PostgresURL, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PlatformThread]:
    running = start_platform(
        postgres_server,
        tmp_path_factory.mktemp("failing"),
        "failing",
        provider="tests.support.providers:FailingLocalProvider",
    )
    yield running
    running.stop()


def tenant_name(deployment_id: str) -> str:
    return "t_" + deployment_id.replace("-", "")[:16]


@pytest.mark.slow
@pytest.mark.parametrize("plan", ["hobby", "starter"])
def test_a_step_failing_for_good_rolls_everything_back(
    failing_platform: PlatformThread, postgres_server: PostgresURL, plan: str
) -> None:
    customer = sign_up(failing_platform.control_url, plan=plan)
    with customer.client:
        deployment = wait_for_deployment(
            customer.client, customer.deployment["id"], status="failed"
        )
    assert "broken_on_purpose" in deployment["error"]
    assert "fault injection" in deployment["error"]
    assert "cleanup incomplete" not in deployment["error"]
    assert deployment["api_url"] is None
    steps = {step["name"]: step for step in deployment["steps"]}
    assert steps["broken_on_purpose"]["attempts"] == 3
    assert all(step["status"] == "undone" for step in steps.values())

    name = tenant_name(deployment["id"])
    assert roles_named(postgres_server, name) == []
    control = failing_platform.control_database
    shared = postgres_server.with_database(f"{control.database}_shared")
    assert schemas_named(shared, name) == 0
    assert query(shared, "SELECT 1 FROM webhost_dataplane.tenants WHERE name = $1", name) == []
    assert databases_named(postgres_server, f"wh_{name}") == 0
    assert query(control, "SELECT port FROM local_processes") == []
    assert not set(dataplane_pids()) & set(failing_platform.settings.dedicated_port_range)


@pytest.mark.slow
def test_a_worker_killed_mid_step_is_recovered_without_duplicates(
    postgres_server: PostgresURL, tmp_path: Path
) -> None:
    platform = start_platform(
        postgres_server, tmp_path / "data", "killed", components=Components(worker=False)
    )
    settings, database = platform.settings, platform.control_database
    marker = tmp_path / "paused"
    environment = {
        **os.environ,
        "DATABASE_URL": database.for_libpq(),
        "WEBHOST_DATA_DIR": str(settings.data_dir),
        "WEBHOST_DEDICATED_PORTS": settings.dedicated_ports,
        "WEBHOST_WORKER_HEARTBEAT_SECONDS": "0.5",
        "WEBHOST_STALLED_JOB_SECONDS": "3",
        "WEBHOST_LOG_LEVEL": "warning",
        # this checkout's webhost, even where the installed one is another checkout's
        "PYTHONPATH": os.pathsep.join([str(REPOSITORY / "src"), str(REPOSITORY)]),
    }
    paused_worker = subprocess.Popen(
        [sys.executable, "-m", "webhost", "worker"],
        env=environment
        | {
            "WEBHOST_PROVIDER": "tests.support.providers:PausingLocalProvider",
            "WEBHOST_TEST_PAUSE_STEP": "tenant_migrations",
            "WEBHOST_TEST_PAUSE_FILE": str(marker),
        },
    )
    worker: subprocess.Popen[bytes] | None = None
    try:
        customer = sign_up(platform.control_url, plan="starter")
        wait_until(marker.exists, timeout=60, message="worker paused mid-step")
        paused_worker.send_signal(signal.SIGKILL)
        paused_worker.wait(10)

        worker = subprocess.Popen([sys.executable, "-m", "webhost", "worker"], env=environment)
        with customer.client:
            deployment = wait_for_deployment(customer.client, customer.deployment["id"])
        steps = {step["name"]: step for step in deployment["steps"]}
        assert steps["tenant_migrations"]["attempts"] == 2
        assert all(
            step["attempts"] == 1 for name, step in steps.items() if name != "tenant_migrations"
        )

        name = tenant_name(deployment["id"])
        assert roles_named(postgres_server, name) == [name, f"{name}_plane"]
        assert databases_named(postgres_server, f"wh_{name}") == 1
        dedicated = postgres_server.with_database(f"wh_{name}")
        assert query(dedicated, "SELECT count(*) FROM webhost_dataplane.tenants") == [(1,)]
        ports = query(database, "SELECT port FROM local_processes")
        assert len(ports) == 1
        assert len(dataplane_pids()[ports[0][0]]) == 1
        jobs = query(database, "SELECT status::text FROM procrastinate_jobs")
        assert sorted(jobs) == [("succeeded",)]
    finally:
        for process in (paused_worker, worker):
            if process is not None:
                stop_process(process)
        platform.stop()


@pytest.mark.slow
def test_the_operator_retries_a_failed_deployment_as_a_new_run(
    failing_platform: PlatformThread,
) -> None:
    from tests.support.factories import operator_client

    customer = sign_up(failing_platform.control_url, plan="hobby")
    with customer.client:
        deployment_id = customer.deployment["id"]
        failed = wait_for_deployment(customer.client, deployment_id, status="failed")
        with operator_client(failing_platform) as operator:
            page = operator.get("/operator")
            assert page.status_code == 200
            assert f"/operator/deployments/{deployment_id}/retry" in page.text
            retried = operator.post(f"/api/admin/deployments/{deployment_id}/retry")
            assert retried.status_code == 202, retried.text
            assert retried.json()["status"] == "provisioning"
            again = operator.post(f"/api/admin/deployments/{deployment_id}/retry")
            assert again.status_code == 409
            assert "only a failed one is retried" in again.json()["error"]["message"]
        refailed = wait_for_deployment(customer.client, deployment_id, status="failed")
        assert refailed["run"]["id"] != failed["run"]["id"]
        assert refailed["run"]["status"] == "compensated"
        # a ledger of its own: the failing step counts this run's three attempts, not six
        attempts = {step["name"]: step["attempts"] for step in refailed["steps"]}
        assert attempts["broken_on_purpose"] == 3

"""kill -9 of the whole platform in the middle of a move: after a restart the move resumes where
its ledger says and completes, and every acknowledged write is on the new plane."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.clients import api_client
from tests.support.database import create_fresh_database
from tests.support.factories import create_key, sign_up
from tests.support.moves import all_record_ids, move_to, wait_moved
from tests.support.platform import UpProcess, wait_for_deployment
from tests.support.polling import wait_until
from tests.support.servers import free_port
from webhost.db.urls import PostgresURL


@pytest.mark.slow
@pytest.mark.parametrize("killed_at", ["process", "copy"])
def test_a_move_killed_mid_way_resumes_after_a_restart_and_loses_nothing(
    postgres_server: PostgresURL, tmp_path: Path, killed_at: str
) -> None:
    database = create_fresh_database(postgres_server, "movecrash")
    up = UpProcess(
        tmp_path / "data",
        free_port(),
        free_port(),
        environment={
            "DATABASE_URL": database.for_libpq(),
            "WEBHOST_MOVE_SAFETY_HOURS": "0",
            "WEBHOST_STALLED_JOB_SECONDS": "3",
            "WEBHOST_WORKER_HEARTBEAT_SECONDS": "0.5",
        },
    )
    try:
        up.start()
        customer = sign_up(up.control_url, plan="hobby")
        deployment_id = customer.deployment["id"]
        api_url = wait_for_deployment(customer.client, deployment_id)["api_url"]
        key = create_key(customer)["key"]
        acknowledged = set()
        with api_client(api_url, key) as data:
            assert data.put("/v1/collections/trips", json={"schema": "++id"}).status_code == 201
            for number in range(40):
                response = data.post("/v1/collections/trips/records", json={"n": number})
                assert response.status_code == 201, response.text
                acknowledged.add(response.json()["id"])
        move_to(customer, deployment_id, "starter")

        def reached() -> bool:
            body: dict[str, Any] = customer.client.get(f"/api/deployments/{deployment_id}").json()
            return any(step["name"] == killed_at for step in body["steps"])

        wait_until(reached, timeout=60, interval=0.02, message=f"the move at {killed_at}")
        up.kill()
        up.start()
        # the session cookie outlives the restart: the same customer looks on
        moved = wait_moved(customer, deployment_id, "dedicated")
        assert moved["api_url"] == api_url
        assert moved["run"]["status"] == "succeeded"
        assert all(step["status"] == "done" for step in moved["steps"])
        assert acknowledged <= all_record_ids(api_url, key)
        with api_client(api_url, key) as data:
            assert data.post("/v1/collections/trips/records", json={"n": 40}).status_code == 201
        customer.client.close()
    finally:
        if up.process is not None and up.process.poll() is None:
            up.interrupt()

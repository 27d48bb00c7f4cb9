"""A deployment whose provisioning job was lost is queued again by the worker's recovery."""

from __future__ import annotations

from pathlib import Path

from tests.support.factories import sign_up
from tests.support.inspect import query
from tests.support.platform import PlatformThread, start_platform, wait_for_deployment
from webhost.db.urls import PostgresURL
from webhost.runtime import Components


def test_a_deployment_whose_job_was_cancelled_is_provisioned_anyway(
    postgres_server: PostgresURL, tmp_path: Path
) -> None:
    serving = start_platform(
        postgres_server, tmp_path / "data", "orphan", components=Components(worker=False)
    )
    worker: PlatformThread | None = None
    try:
        customer = sign_up(serving.control_url)
        cancelled = query(
            serving.control_database,
            "SELECT procrastinate_cancel_job_v1(id, false, false) FROM procrastinate_jobs "
            "WHERE status = 'todo'",
        )
        assert len(cancelled) == 1
        worker = PlatformThread(
            serving.settings, Components(control=False, shared_plane=False, supervisor=False)
        ).start()
        with customer.client:
            deployment = wait_for_deployment(customer.client, customer.deployment["id"])
        assert deployment["error"] is None
        jobs = query(
            serving.control_database,
            "SELECT status::text FROM procrastinate_jobs ORDER BY id",
        )
        assert jobs == [("cancelled",), ("succeeded",)]
    finally:
        if worker is not None:
            worker.stop()
        serving.stop()

"""Each provisioning run has a ledger of its own: a later run does every step again."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from tests.support.factories import sign_up
from tests.support.inspect import query
from tests.support.platform import PlatformThread, start_platform, wait_for_deployment
from webhost.control.deployments import repository as deployments_repository
from webhost.control.deployments.models import DeploymentStatus
from webhost.db.urls import PostgresURL
from webhost.jobs import enqueue
from webhost.runtime import Components


def tenant_name(deployment_id: str) -> str:
    return "t_" + deployment_id.replace("-", "")[:16]


def shared_database(platform: PlatformThread) -> PostgresURL:
    control = platform.control_database
    return control.with_database(f"{control.database}_shared")


def runs_of(platform: PlatformThread, deployment_id: str) -> list[tuple[Any, ...]]:
    return query(
        platform.control_database,
        "SELECT id::text, workflow::text, status::text FROM workflow_runs "
        "WHERE deployment_id = $1 ORDER BY created_at",
        uuid.UUID(deployment_id),
    )


def ledger_of(platform: PlatformThread, run_id: str) -> dict[str, tuple[str, int]]:
    rows = query(
        platform.control_database,
        "SELECT name, status::text, attempts FROM provisioning_steps WHERE run_id = $1",
        uuid.UUID(run_id),
    )
    return {name: (status, attempts) for name, status, attempts in rows}


def reprovision_with_a_late_job(platform: PlatformThread, deployment_id: str, run_id: str) -> None:
    """Set the deployment back to provisioning and deliver the finished run's job once more."""

    async def reset() -> None:
        assert platform.runtime is not None
        assert platform.runtime.platform is not None
        async with platform.runtime.platform.sessions.begin() as session:
            deployment = await deployments_repository.lock(session, uuid.UUID(deployment_id))
            assert deployment is not None
            deployment.status = DeploymentStatus.PROVISIONING
            await enqueue(
                session,
                "provision_deployment",
                queue="provisioning",
                lock=f"deployment:{deployment_id}",
                deployment_id=deployment_id,
                run_id=run_id,
            )

    platform.call(reset)


def test_a_second_provisioning_run_does_every_step_again_on_a_ledger_of_its_own(
    postgres_server: PostgresURL, tmp_path: Path
) -> None:
    serving = start_platform(postgres_server, tmp_path / "data", "runs")
    try:
        customer = sign_up(serving.control_url)
        deployment_id = customer.deployment["id"]
        with customer.client:
            first = wait_for_deployment(customer.client, deployment_id)
            assert first["run"]["workflow"] == "provision"
            assert first["run"]["status"] == "succeeded"
            assert first["run"]["started_at"] <= first["run"]["finished_at"]
            first_run = first["run"]["id"]
            step_names = [step["name"] for step in first["steps"]]

            # a step's work is lost: only a run that really does its steps brings it back
            tenant = tenant_name(deployment_id)
            query(
                shared_database(serving),
                "DELETE FROM webhost_dataplane.tenants WHERE name = $1",
                tenant,
            )
            # the late job finds its run finished and does nothing; job recovery then queues
            # the deployment, still provisioning, with a new run
            reprovision_with_a_late_job(serving, deployment_id, first_run)
            second = wait_for_deployment(customer.client, deployment_id)

        assert second["run"]["id"] != first_run
        assert second["run"]["status"] == "succeeded"
        assert [step["name"] for step in second["steps"]] == step_names
        assert all(step["status"] == "done" and step["attempts"] == 1 for step in second["steps"])
        assert runs_of(serving, deployment_id) == [
            (first_run, "provision", "succeeded"),
            (second["run"]["id"], "provision", "succeeded"),
        ]
        finished = dict.fromkeys(step_names, ("done", 1))
        assert ledger_of(serving, first_run) == finished, "the first run's ledger is its own"
        assert ledger_of(serving, second["run"]["id"]) == finished
        assert query(
            shared_database(serving),
            "SELECT count(*) FROM webhost_dataplane.tenants WHERE name = $1",
            tenant,
        ) == [(1,)]
        jobs = query(
            serving.control_database,
            "SELECT status::text, args->>'run_id' FROM procrastinate_jobs ORDER BY id",
        )
        assert jobs == [
            ("succeeded", first_run),
            ("succeeded", first_run),
            ("succeeded", second["run"]["id"]),
        ]
    finally:
        serving.stop()


def test_jobs_queued_with_only_the_deployment_id_still_provision(
    postgres_server: PostgresURL, tmp_path: Path
) -> None:
    """Jobs queued before runs existed: the deployment's running run is resumed (its finished
    steps skipped), or a new run started when it has none."""
    serving = start_platform(
        postgres_server, tmp_path / "data", "old_jobs", components=Components(worker=False)
    )
    worker: PlatformThread | None = None
    try:
        without_run = sign_up(serving.control_url)
        with_run = sign_up(serving.control_url)
        control = serving.control_database
        query(control, "UPDATE procrastinate_jobs SET args = args - 'run_id'")
        query(
            control,
            "DELETE FROM workflow_runs WHERE deployment_id = $1",
            uuid.UUID(without_run.deployment["id"]),
        )
        ((running_run,),) = query(
            control,
            "SELECT id::text FROM workflow_runs WHERE deployment_id = $1",
            uuid.UUID(with_run.deployment["id"]),
        )
        # the first step finished before the upgrade, as migration 0009 carries it over
        query(
            control,
            "INSERT INTO provisioning_steps (id, run_id, position, name, status, attempts, output) "
            "VALUES ($1, $2, 0, 'shared_database', 'done', 1, $3::jsonb)",
            uuid.uuid4(),
            uuid.UUID(running_run),
            json.dumps({"database": shared_database(serving).database}),
        )
        assert query(control, "SELECT count(*) FROM procrastinate_jobs WHERE args ? 'run_id'") == [
            (0,)
        ]

        worker = PlatformThread(
            serving.settings, Components(control=False, shared_plane=False, supervisor=False)
        ).start()
        for customer in (without_run, with_run):
            with customer.client:
                deployment = wait_for_deployment(customer.client, customer.deployment["id"])
            assert deployment["run"]["status"] == "succeeded"
            assert all(step["status"] == "done" for step in deployment["steps"])
            assert [(run[0], run[2]) for run in runs_of(serving, deployment["id"])] == [
                (deployment["run"]["id"], "succeeded")
            ]
            assert all(step["attempts"] == 1 for step in deployment["steps"])

        assert runs_of(serving, with_run.deployment["id"])[0][0] == running_run
        ledger = ledger_of(serving, running_run)
        assert ledger["shared_database"] == ("done", 1), "a finished step is not done again"
        assert len(ledger) == 5
        jobs = query(control, "SELECT status::text FROM procrastinate_jobs")
        assert jobs == [("succeeded",), ("succeeded",)]
    finally:
        if worker is not None:
            worker.stop()
        serving.stop()

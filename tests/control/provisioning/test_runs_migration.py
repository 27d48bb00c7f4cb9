"""Migration 0011 turns each deployment's ledger into a run, and gives the ledger back on the
way down."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.support.database import create_fresh_database
from webhost.db import migrate
from webhost.db.engine import create_engine
from webhost.db.urls import PostgresURL

SHARED_STEPS = ("shared_database", "tenant_role", "tenant_schema", "tenant_migrations")


async def add_deployment(
    connection: AsyncConnection, status: str, error: str | None = None
) -> uuid.UUID:
    organization_id, deployment_id = uuid.uuid4(), uuid.uuid4()
    await connection.execute(
        text("INSERT INTO organizations (id, name, slug) VALUES (:id, 'Engines', :slug)"),
        {"id": organization_id, "slug": f"engines-{organization_id.hex[:12]}"},
    )
    await connection.execute(
        text(
            "INSERT INTO deployments (id, organization_id, plan_id, mode, provider, tenant_name, "
            "status, error) SELECT :id, :organization, id, 'shared', 'local', :tenant, "
            "CAST(:status AS deployment_status), :error FROM plans WHERE slug = 'hobby'"
        ),
        {
            "id": deployment_id,
            "organization": organization_id,
            "tenant": "t_" + deployment_id.hex[:16],
            "status": status,
            "error": error,
        },
    )
    return deployment_id


async def add_ledger(connection: AsyncConnection, deployment_id: uuid.UUID, *statuses: str) -> None:
    """The pre-0011 ledger: one row per (deployment, workflow, step)."""
    for position, (name, status) in enumerate(zip(SHARED_STEPS, statuses, strict=False)):
        await connection.execute(
            text(
                "INSERT INTO provisioning_steps (id, deployment_id, workflow, position, name, "
                "status, attempts, output, finished_at) VALUES (:id, :deployment, 'provision', "
                ":position, :name, CAST(:status AS step_status), 1, '{}', "
                "CASE WHEN :status = 'running' THEN NULL ELSE now() END)"
            ),
            {
                "id": uuid.uuid4(),
                "deployment": deployment_id,
                "position": position,
                "name": name,
                "status": status,
            },
        )


async def start_run(connection: AsyncConnection, deployment_id: uuid.UUID, workflow: str) -> Any:
    run_id = uuid.uuid4()
    await connection.execute(
        text(
            "INSERT INTO workflow_runs (id, deployment_id, workflow, status) "
            "VALUES (:id, :deployment, CAST(:workflow AS workflow), 'running')"
        ),
        {"id": run_id, "deployment": deployment_id, "workflow": workflow},
    )
    return run_id


async def rows(connection: AsyncConnection, sql: str, **values: Any) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in (await connection.execute(text(sql), values)).all()]


async def runs(connection: AsyncConnection) -> dict[uuid.UUID, tuple[Any, ...]]:
    found = await rows(
        connection,
        "SELECT deployment_id, workflow::text, status::text, error, finished_at IS NULL, "
        "(SELECT count(*) FROM provisioning_steps s WHERE s.run_id = r.id) FROM workflow_runs r",
    )
    return {row[0]: row[1:] for row in found}


async def step_columns(connection: AsyncConnection) -> set[str]:
    found = await rows(
        connection,
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = 'provisioning_steps'",
    )
    return {row[0] for row in found}


async def workflows(connection: AsyncConnection) -> list[str]:
    found = await rows(connection, "SELECT unnest(enum_range(NULL::workflow))::text")
    return [row[0] for row in found]


def test_ledger_rows_become_runs_that_follow_their_deployment_and_come_back_down(
    postgres_server: PostgresURL,
) -> None:
    database = create_fresh_database(postgres_server, "runs_migration")

    async def scenario() -> None:
        engine = create_engine(database, pool_size=1)
        try:
            async with engine.begin() as connection:
                await migrate.upgrade(connection, migrate.CONTROL, revision="0010")
            async with engine.begin() as connection:
                provisioning = await add_deployment(connection, "provisioning")
                await add_ledger(connection, provisioning, "done", "done", "running")
                active = await add_deployment(connection, "active")
                await add_ledger(connection, active, "done", "done", "done", "done")
                undone = await add_deployment(connection, "failed", "step 'tenant_schema' failed")
                await add_ledger(connection, undone, "undone", "undone", "undone")
                left_over = await add_deployment(
                    connection, "failed", "step 'tenant_role' failed; cleanup incomplete"
                )
                await add_ledger(connection, left_over, "undone", "failed")
                queued = await add_deployment(connection, "provisioning")

            async with engine.begin() as connection:
                await migrate.upgrade(connection, migrate.CONTROL)
            async with engine.begin() as connection:
                assert await runs(connection) == {
                    provisioning: ("provision", "running", None, True, 3),
                    active: ("provision", "succeeded", None, False, 4),
                    undone: ("provision", "compensated", "step 'tenant_schema' failed", False, 3),
                    left_over: (
                        "provision",
                        "failed",
                        "step 'tenant_role' failed; cleanup incomplete",
                        False,
                        2,
                    ),
                }
                assert queued not in await runs(connection), "a run starts with its job"
                columns = await step_columns(connection)
                assert "run_id" in columns
                assert not {"deployment_id", "workflow"} & columns
                assert await workflows(connection) == ["provision", "deprovision", "migrate"]

                with pytest.raises(IntegrityError):
                    async with connection.begin_nested():
                        await start_run(connection, provisioning, "provision")
                # a finished run makes way for the next one, whose ledger starts empty
                second = await start_run(connection, active, "provision")
                await connection.execute(
                    text(
                        "INSERT INTO provisioning_steps (id, run_id, position, name, status, "
                        "attempts, output) VALUES (:id, :run, 0, 'shared_database', 'done', 1, "
                        "'{}')"
                    ),
                    {"id": uuid.uuid4(), "run": second},
                )
            async with engine.begin() as connection:
                # the new value is usable once the upgrade has committed
                await start_run(connection, undone, "migrate")

            async with engine.begin() as connection:
                await migrate.downgrade(connection, migrate.CONTROL, "0010")
            async with engine.begin() as connection:
                ledger = await rows(
                    connection,
                    "SELECT deployment_id, workflow::text, count(*) FROM provisioning_steps "
                    "GROUP BY deployment_id, workflow",
                )
                assert sorted(ledger) == sorted(
                    [
                        (provisioning, "provision", 3),
                        (active, "provision", 1),  # the newest run's ledger
                        (undone, "provision", 3),
                        (left_over, "provision", 2),
                    ]
                )
                assert "run_id" not in await step_columns(connection)
                assert await workflows(connection) == ["provision", "deprovision"]
                assert await rows(connection, "SELECT to_regclass('workflow_runs')") == [(None,)]

            async with engine.begin() as connection:
                await migrate.upgrade(connection, migrate.CONTROL)
            async with engine.begin() as connection:
                again = await runs(connection)
                assert again[provisioning] == ("provision", "running", None, True, 3)
                assert again[active] == ("provision", "succeeded", None, False, 1)
        finally:
            await engine.dispose()

    asyncio.run(scenario())

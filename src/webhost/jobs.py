"""The durable job queue (procrastinate on the control database).

Jobs are enqueued with SQL inside the caller's transaction, so a rolled-back request leaves no
job behind; task modules register on the blueprint below and find the platform in the job
context.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, cast

import procrastinate
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from webhost.db.urls import PostgresURL

if TYPE_CHECKING:
    from webhost.platform import Platform

blueprint = procrastinate.Blueprint()

TASK_MODULES = ("webhost.control.provisioning.tasks",)


def create_job_app(control_database: PostgresURL) -> procrastinate.App:
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=control_database.for_libpq()),
        import_paths=list(TASK_MODULES),
    )
    for module in TASK_MODULES:
        __import__(module)
    app.add_tasks_from(blueprint, namespace="webhost")
    return app


def platform_of(context: procrastinate.JobContext) -> Platform:
    return cast("Platform", (context.additional_context or {})["platform"])


async def enqueue(
    session: AsyncSession,
    task_name: str,
    *,
    queue: str,
    lock: str | None = None,
    queueing_lock: str | None = None,
    **arguments: Any,
) -> int:
    """Defer a job in the session's transaction; it runs only if that transaction commits."""
    job_id: int = (
        await session.execute(
            text(
                "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, :lock, "
                ":queueing_lock, CAST(:args AS jsonb), NULL)::procrastinate_job_to_defer_v1]))"
            ),
            {
                "queue": queue,
                "task": f"webhost:{task_name}",
                "lock": lock,
                "queueing_lock": queueing_lock,
                "args": json.dumps(arguments),
            },
        )
    ).scalar_one()
    return job_id

"""The durable job queue (procrastinate on the control database).

Jobs are enqueued with SQL inside the caller's transaction, so a rolled-back request leaves no
job behind. Task modules declare their jobs with ``@job_task``; every App (one per platform,
several in a test process) registers them afresh, because procrastinate's blueprints are
changed by registration and cannot be shared.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import procrastinate
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from webhost.db.urls import PostgresURL

if TYPE_CHECKING:
    from webhost.platform import Platform

TASK_MODULES = (
    "webhost.control.provisioning.tasks",
    "webhost.control.moves.tasks",
    "webhost.control.deployments.tasks",
)

JobFunction = Callable[..., Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class JobTask:
    function: JobFunction
    name: str
    queue: str
    retry: procrastinate.RetryStrategy | None


_TASKS: dict[str, JobTask] = {}


def job_task(
    *, name: str, queue: str, retry: procrastinate.RetryStrategy | None = None
) -> Callable[[JobFunction], JobFunction]:
    """Declare a job; its function receives the procrastinate JobContext first."""

    def register(function: JobFunction) -> JobFunction:
        _TASKS[name] = JobTask(function, name, queue, retry)
        return function

    return register


def create_job_app(control_database: PostgresURL) -> procrastinate.App:
    for module in TASK_MODULES:
        importlib.import_module(module)
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=control_database.for_libpq())
    )
    for task in _TASKS.values():
        app.task(name=task.name, queue=task.queue, pass_context=True, retry=task.retry or False)(
            task.function
        )
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
    schedule_at: datetime | None = None,
    **arguments: Any,
) -> int:
    """Defer a job in the session's transaction; it runs only if that transaction commits
    (not before ``schedule_at`` when given)."""
    job_id: int = (
        await session.execute(
            text(
                "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, :lock, "
                ":queueing_lock, CAST(:args AS jsonb), "
                "CAST(:schedule_at AS timestamptz))::procrastinate_job_to_defer_v1]))"
            ),
            {
                "queue": queue,
                "task": task_name,
                "lock": lock,
                "queueing_lock": queueing_lock,
                "args": json.dumps(arguments),
                "schedule_at": schedule_at,
            },
        )
    ).scalar_one()
    return job_id


async def run_scheduled_now(session: AsyncSession, task_name: str, *, lock: str) -> int:
    """Bring the waiting jobs of ``task_name`` under ``lock`` forward to now, in the session's
    transaction; how many there were. (A new job would wait behind them: procrastinate runs a
    lock's jobs in order.)"""
    moved = await session.execute(
        text(
            "UPDATE procrastinate_jobs SET scheduled_at = now() "
            "WHERE task_name = :task AND lock = :lock AND status = 'todo' "
            "AND scheduled_at > now()"
        ),
        {"task": task_name, "lock": lock},
    )
    return int(moved.rowcount)  # type: ignore[attr-defined]

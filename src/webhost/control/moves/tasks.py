"""Move jobs: a move gets three attempts, then is rolled back; removing the old copy is retried
until it succeeds (it removes only what the move left behind)."""

from __future__ import annotations

import uuid

import procrastinate

from webhost.control.moves import removal, workflow
from webhost.jobs import job_task, platform_of

RETRIES = 2  # procrastinate counts retries: three attempts in all


@job_task(
    name="move_deployment",
    queue="provisioning",
    retry=procrastinate.RetryStrategy(max_attempts=RETRIES, exponential_wait=2),
)
async def move_deployment(
    context: procrastinate.JobContext, deployment_id: str, run_id: str
) -> None:
    await workflow.move(
        platform_of(context),
        uuid.UUID(deployment_id),
        uuid.UUID(run_id),
        final_attempt=context.job.attempts >= RETRIES,
    )


@job_task(
    name="remove_moved_source",
    queue="provisioning",
    retry=procrastinate.RetryStrategy(max_attempts=10, exponential_wait=5),
)
async def remove_moved_source(
    context: procrastinate.JobContext, deployment_id: str, run_id: str
) -> None:
    await removal.remove_source(platform_of(context), uuid.UUID(deployment_id), uuid.UUID(run_id))

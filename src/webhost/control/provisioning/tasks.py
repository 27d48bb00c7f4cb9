"""Provisioning jobs: three attempts with exponential back-off, then compensation."""

from __future__ import annotations

import uuid

import procrastinate

from webhost.control.provisioning import deprovision, workflow
from webhost.jobs import job_task, platform_of

RETRIES = 2  # procrastinate counts retries: three attempts in all


@job_task(
    name="provision_deployment",
    queue="provisioning",
    retry=procrastinate.RetryStrategy(max_attempts=RETRIES, exponential_wait=2),
)
async def provision_deployment(
    context: procrastinate.JobContext, deployment_id: str, run_id: str | None = None
) -> None:
    """``run_id`` is missing from jobs queued before workflow runs existed."""
    attempts_so_far = context.job.attempts
    await workflow.provision(
        platform_of(context),
        uuid.UUID(deployment_id),
        uuid.UUID(run_id) if run_id is not None else None,
        final_attempt=attempts_so_far >= RETRIES,
    )


@job_task(
    name="deprovision_deployment",
    queue="provisioning",
    retry=procrastinate.RetryStrategy(max_attempts=10, exponential_wait=5),
)
async def deprovision_deployment(
    context: procrastinate.JobContext, deployment_id: str, run_id: str
) -> None:
    """Retried until everything is removed: each removal is idempotent."""
    await deprovision.deprovision(platform_of(context), uuid.UUID(deployment_id), uuid.UUID(run_id))

"""Deployment jobs: bringing the servers in line after a plan change within a mode."""

from __future__ import annotations

import uuid

import procrastinate

from webhost.control.deployments import reshape
from webhost.jobs import job_task, platform_of

RETRIES = 3  # procrastinate counts retries: four attempts in all


@job_task(
    name="reshape_deployment",
    queue=reshape.QUEUE,
    retry=procrastinate.RetryStrategy(max_attempts=RETRIES, exponential_wait=2),
)
async def reshape_deployment(
    context: procrastinate.JobContext, deployment_id: str, plan: str
) -> None:
    await reshape.reshape(
        platform_of(context),
        uuid.UUID(deployment_id),
        plan,
        final_attempt=context.job.attempts >= RETRIES,
    )

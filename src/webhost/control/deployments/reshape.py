"""After a plan change within a mode, what serves the deployment is brought in line with the
new plan (a region added or dropped, another machine size) by a durable job, while it goes on
serving: the plan and its limits changed at once, the infrastructure follows. A job that fails
for good leaves the deployment active on the new plan with an error saying what is not in
place yet; the operator's retry (or the next plan change) runs it again.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from webhost.control.deployments import repository
from webhost.control.deployments import service as deployments
from webhost.control.deployments.models import Deployment, DeploymentStatus
from webhost.control.provisioning.runner import describe_failure
from webhost.errors import Conflict
from webhost.jobs import enqueue

if TYPE_CHECKING:
    from webhost.platform import Platform

log = structlog.get_logger(__name__)

QUEUE = "provisioning"
# the start of the error a failed reshape leaves, so a later success clears only its own
NOT_IN_PLACE = "the servers of the "


async def queue_reshape(session: AsyncSession, deployment: Deployment, plan_slug: str) -> None:
    """In the caller's transaction: the job runs once the plan change is committed."""
    await enqueue(
        session,
        "reshape_deployment",
        queue=QUEUE,
        lock=f"deployment:{deployment.id}",
        deployment_id=str(deployment.id),
        plan=plan_slug,
    )


def needs_retry(deployment: Deployment) -> bool:
    """Whether a reshape failed for good and nothing has brought the servers in line since."""
    return deployment.status == DeploymentStatus.ACTIVE and (deployment.error or "").startswith(
        NOT_IN_PLACE
    )


async def retry(session: AsyncSession, deployment: Deployment) -> None:
    """The operator asks again for the servers of the deployment's plan (409 unless a reshape
    failed for good)."""
    locked = await repository.lock(session, deployment.id)
    if locked is None or not needs_retry(locked):
        raise Conflict(f"deployment {deployment.id} has no failed plan change to retry")
    await queue_reshape(session, locked, await repository.plan_slug(session, locked.plan_id))


async def reshape(
    platform: Platform, deployment_id: uuid.UUID, plan_slug: str, *, final_attempt: bool
) -> None:
    async with platform.sessions() as session:
        deployment = await repository.get(session, deployment_id)
        if deployment is None or deployment.status != DeploymentStatus.ACTIVE:
            return  # deleted, suspended or moving: whatever comes next reshapes it
        if await repository.plan_slug(session, deployment.plan_id) != plan_slug:
            return  # another plan change since: its own job brings it in line
        spec = await deployments.spec_of(session, deployment)
    try:
        await platform.providers.get(spec.provider).reshape(spec)
    except Exception as exc:
        if final_attempt:
            await _set_error(
                platform,
                deployment_id,
                f"{NOT_IN_PLACE}{plan_slug} plan are not all in place "
                f"({describe_failure(exc)}); the deployment serves on, and an operator can "
                "retry it (POST /api/admin/deployments/{id}/reshape/retry)".replace(
                    "{id}", str(deployment_id)
                ),
            )
        raise
    await _set_error(platform, deployment_id, None)
    log.info("deployment reshaped", deployment=str(deployment_id), plan=plan_slug)


async def _set_error(platform: Platform, deployment_id: uuid.UUID, error: str | None) -> None:
    async with platform.sessions.begin() as session:
        deployment = await repository.lock(session, deployment_id)
        if deployment is None:
            return
        if error is not None or (deployment.error or "").startswith(NOT_IN_PLACE):
            deployment.error = error

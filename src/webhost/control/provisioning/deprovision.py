"""Deleting a deployment: everything its provider made is removed, newest first.

A deprovisioning run undoes the steps of the run that made what serves the deployment (its
provisioning, or its last move), each recorded in the run's own ledger so a worker killed
midway resumes where it was; the copy an unfinished move safety window still keeps is removed
too. The deployment ends ``deleted``: its row stays (the operator's history), its routing goes.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import structlog

from webhost.control.deployments import repository as deployments_repository
from webhost.control.deployments import service as deployments
from webhost.control.deployments.models import Deployment, DeploymentStatus
from webhost.control.providers.base import StepRun
from webhost.control.provisioning import repository
from webhost.control.provisioning.models import RunStatus, StepStatus, Workflow
from webhost.control.provisioning.runner import describe_failure, secret_getter
from webhost.errors import ProvisioningError
from webhost.jobs import enqueue

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from webhost.platform import Platform

log = structlog.get_logger(__name__)


async def queue_deprovisioning(session: AsyncSession, deployment: Deployment) -> None:
    """``deployment`` is locked; its deletion runs after the caller's transaction commits."""
    if deployment.status in (DeploymentStatus.DEPROVISIONING, DeploymentStatus.DELETED):
        return
    deployment.status = DeploymentStatus.DEPROVISIONING
    run = await repository.open_run(session, deployment.id, Workflow.DEPROVISION)
    await enqueue(
        session,
        "deprovision_deployment",
        queue="provisioning",
        lock=f"deployment:{deployment.id}",
        deployment_id=str(deployment.id),
        run_id=str(run.id),
    )


async def deprovision(platform: Platform, deployment_id: uuid.UUID, run_id: uuid.UUID) -> None:
    # moves import this module's neighbours: imported here, not at the top
    from webhost.control.moves import removal
    from webhost.control.moves import service as moves

    async with platform.sessions.begin() as session:
        run = await repository.get_run(session, run_id)
        deployment = await deployments_repository.get(session, deployment_id)
        if run is None or deployment is None or run.status != RunStatus.RUNNING:
            return
        spec = await deployments.spec_of(session, deployment)
        made_by = await repository.serving_run(session, deployment_id)
        made = await repository.ledger(session, made_by.id) if made_by is not None else {}
        done = await repository.ledger(session, run_id)
        last_move = await moves.last_move(session, deployment)
    if last_move is not None and last_move.source_removed_at is None:
        await removal.remove_source(platform, deployment_id, last_move.id)
    provider = platform.providers.get(spec.provider)
    outputs = {name: entry.output for name, entry in made.items()}
    run_state = StepRun(spec, outputs=outputs, secret=secret_getter(platform, deployment_id))
    steps = list(provider.provision_steps(spec))
    for position, step in enumerate(reversed(steps)):
        entry = done.get(step.name)
        if entry is not None and entry.status == StepStatus.UNDONE:
            continue
        async with platform.sessions.begin() as session:
            await repository.start_step(session, run_id, position, step.name)
        try:
            await step.undo(run_state)
        except Exception as exc:
            reason = f"removing '{step.name}' failed: {describe_failure(exc)}"
            async with platform.sessions.begin() as session:
                await repository.finish_step(
                    session, run_id, step.name, StepStatus.FAILED, error=reason
                )
            raise ProvisioningError(reason) from exc
        async with platform.sessions.begin() as session:
            await repository.finish_step(session, run_id, step.name, StepStatus.UNDONE)
    async with platform.sessions.begin() as session:
        locked = await deployments_repository.lock(session, deployment_id)
        if locked is not None:
            locked.status = DeploymentStatus.DELETED
            locked.plane_url = None  # the edge forgets its route
        await repository.finish_run(session, run_id, RunStatus.SUCCEEDED)
    log.info("deployment deleted", deployment=str(deployment_id))

"""Runs a provider's steps for a deployment, resumably, and compensates when they fail for good.

Each run of a workflow has a ledger of its own. Each step's progress is committed to it before
and after the step runs, so a worker killed mid-step resumes that run at that step (steps are
idempotent) and never repeats one it finished; a later run starts from the first step.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog

from webhost.config import Settings
from webhost.control.deployments import repository as deployments_repository
from webhost.control.deployments import service as deployments
from webhost.control.deployments.models import Deployment, DeploymentStatus
from webhost.control.keys import repository as keys_repository
from webhost.control.providers.base import DeploymentSpec, Endpoints, StepRun
from webhost.control.provisioning import repository
from webhost.control.provisioning.models import RunStatus, Workflow, WorkflowRun
from webhost.control.provisioning.runner import (
    StepFailed,
    apply_steps,
    compensate,
    secret_getter,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from webhost.platform import Platform

log = structlog.get_logger(__name__)


class ProvisioningFailed(Exception):
    """Raised after compensation, so the job ends as failed and is not retried."""


async def provision(
    platform: Platform,
    deployment_id: uuid.UUID,
    run_id: uuid.UUID | None = None,
    *,
    final_attempt: bool,
) -> None:
    """Run (or resume) one provisioning run; without ``run_id`` (a job queued before runs
    existed) the deployment's running run is resumed, or a new one started."""
    async with platform.sessions.begin() as session:
        deployment = await deployments_repository.get(session, deployment_id)
        run = await _run_to_work_on(session, deployment, run_id) if deployment else None
        if deployment is None or run is None:
            return  # already finished (a duplicate or late delivery)
        run_id = run.id
        spec = await deployments.spec_of(session, deployment)
        ledger = await repository.ledger(session, run_id)
    steps = platform.providers.get(spec.provider).provision_steps(spec)
    run_state = StepRun(spec, secret=secret_getter(platform, deployment_id))
    try:
        await apply_steps(platform, run_id, steps, run_state, ledger)
    except StepFailed as failed:
        log.warning(
            "provisioning step failed",
            deployment=str(deployment_id),
            run=str(run_id),
            reason=failed.reason,
            final=final_attempt,
        )
        if not final_attempt:
            raise
        leftovers = await compensate(platform, run_id, steps[: failed.position + 1], run_state)
        await _mark_failed(platform, deployment_id, run_id, failed.reason, leftovers)
        raise ProvisioningFailed(failed.reason) from failed
    await activate(platform, spec, run_id, run_state.outputs)


async def _run_to_work_on(
    session: AsyncSession, deployment: Deployment, run_id: uuid.UUID | None
) -> WorkflowRun | None:
    """The running PROVISION run the job stands for; None when there is nothing left to do."""
    provisioning = deployment.status == DeploymentStatus.PROVISIONING
    if run_id is None:
        if not provisioning:
            return None
        return await repository.open_run(session, deployment.id, Workflow.PROVISION)
    run = await repository.get_run(session, run_id)
    if (
        run is None
        or run.deployment_id != deployment.id
        or run.workflow != Workflow.PROVISION
        or run.status != RunStatus.RUNNING
    ):
        return None
    if not provisioning:
        await _abandon(session, run.id, deployment)
        return None
    return run


async def _abandon(session: AsyncSession, run_id: uuid.UUID, deployment: Deployment) -> None:
    """Nothing will finish the run any more: close it, so a later run starts afresh."""
    await repository.finish_run(
        session,
        run_id,
        RunStatus.FAILED,
        error=f"the deployment became {deployment.status} before provisioning finished",
    )


async def activate(
    platform: Platform, spec: DeploymentSpec, run_id: uuid.UUID, outputs: dict[str, dict[str, Any]]
) -> None:
    """Publish the organization's keys, then go live holding the deployment row.

    Keys are published before the row is locked (no network call under it); key changes made
    meanwhile wait in the outbox, and the deployment goes live only once none is left."""
    provider = platform.providers.get(spec.provider)
    endpoints = provider.endpoints(spec, outputs)
    async with platform.sessions() as session:
        keys = await keys_repository.active_for_organization(session, spec.organization_id)
    for key in keys:
        await provider.publish_key(spec, key.prefix, key.secret_digest, key.scope)
    while True:
        await platform.key_courier.deliver(spec.id, activating=True)
        async with platform.sessions.begin() as session:
            deployment = await deployments_repository.lock(session, spec.id)
            if deployment is None:
                return
            if deployment.status != DeploymentStatus.PROVISIONING:
                await _abandon(session, run_id, deployment)
                return
            if await platform.key_courier.has_pending(session, spec.id):
                continue  # a key changed since the delivery above: deliver it first
            await repository.finish_run(session, run_id, RunStatus.SUCCEEDED)
            deployment.status = DeploymentStatus.ACTIVE
            stable = stable_endpoints(platform.settings, spec, endpoints)
            deployment.api_url = stable.api_url
            deployment.sync_url = stable.sync_url
            deployment.plane_url = endpoints.plane_url or endpoints.api_url
            deployment.error = None
            deployment.activated_at = datetime.now(UTC)
            break
    log.info(
        "deployment active",
        deployment=str(spec.id),
        plane_url=endpoints.plane_url or endpoints.api_url,
    )


def stable_endpoints(settings: Settings, spec: DeploymentSpec, plane: Endpoints) -> Endpoints:
    """The URLs its apps are given: on the edge (routed to whichever plane serves it), or the
    plane's own when the edge is off; a provider's own stable names (DNS) as they are."""
    if not settings.edge or plane.plane_url is not None:
        return Endpoints(api_url=plane.api_url, sync_url=plane.sync_url)
    base = f"{settings.edge_url}{edge_path(spec.tenant_name)}"
    return Endpoints(api_url=base, sync_url="ws" + base.removeprefix("http"))


def edge_path(tenant_name: str) -> str:
    return f"/d/{tenant_name.removeprefix('t_')}"


async def _mark_failed(
    platform: Platform,
    deployment_id: uuid.UUID,
    run_id: uuid.UUID,
    reason: str,
    leftovers: list[str],
) -> None:
    if leftovers:
        reason += "; cleanup incomplete: " + "; ".join(leftovers)
    async with platform.sessions.begin() as session:
        deployment = await deployments_repository.lock(session, deployment_id)
        if deployment is not None:
            deployment.status = DeploymentStatus.FAILED
            deployment.error = reason
        outcome = RunStatus.FAILED if leftovers else RunStatus.COMPENSATED
        await repository.finish_run(session, run_id, outcome, error=reason)

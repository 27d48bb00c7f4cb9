"""Runs a provider's steps for a deployment, resumably, and compensates when they fail for good.

Each run of a workflow has a ledger of its own. Each step's progress is committed to it before
and after the step runs, so a worker killed mid-step resumes that run at that step (steps are
idempotent) and never repeats one it finished; a later run starts from the first step.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy.exc import DBAPIError

from webhost.config import Settings
from webhost.control.deployments import repository as deployments_repository
from webhost.control.deployments import service as deployments
from webhost.control.deployments.models import Deployment, DeploymentStatus
from webhost.control.keys import repository as keys_repository
from webhost.control.providers.base import DeploymentSpec, Endpoints, ProvisioningStep, StepRun
from webhost.control.provisioning import repository
from webhost.control.provisioning.models import RunStatus, StepStatus, Workflow, WorkflowRun
from webhost.errors import ProvisioningError, WebHostError

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
    run_state = StepRun(spec, secret=_secret_getter(platform, deployment_id))
    for position, step in enumerate(steps):
        entry = ledger.get(step.name)
        if entry is not None and entry.status == StepStatus.DONE:
            run_state.outputs[step.name] = entry.output
            continue
        async with platform.sessions.begin() as session:
            await repository.start_step(session, run_id, position, step.name)
        try:
            output = await step.apply(run_state)
        except Exception as exc:
            reason = f"step '{step.name}' failed: {describe_failure(exc)}"
            log.warning(
                "provisioning step failed",
                deployment=str(deployment_id),
                run=str(run_id),
                reason=reason,
                final=final_attempt,
            )
            async with platform.sessions.begin() as session:
                await repository.finish_step(
                    session, run_id, step.name, StepStatus.FAILED, error=reason
                )
            if not final_attempt:
                raise
            leftovers = await compensate(platform, run_id, steps[: position + 1], run_state)
            await _mark_failed(platform, deployment_id, run_id, reason, leftovers)
            raise ProvisioningFailed(reason) from exc
        run_state.outputs[step.name] = output
        async with platform.sessions.begin() as session:
            await repository.finish_step(session, run_id, step.name, StepStatus.DONE, output=output)
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


async def compensate(
    platform: Platform,
    run_id: uuid.UUID,
    steps: Sequence[ProvisioningStep],
    run_state: StepRun,
) -> list[str]:
    """Undo in reverse order; returns what could not be undone (empty when clean)."""
    leftovers = []
    for step in reversed(steps):
        try:
            await step.undo(run_state)
        except Exception as exc:
            leftovers.append(f"{step.name}: {describe_failure(exc)}")
            log.error(
                "could not undo provisioning step",
                deployment=str(run_state.deployment.id),
                run=str(run_id),
                step=step.name,
            )
            continue
        async with platform.sessions.begin() as session:
            await repository.finish_step(session, run_id, step.name, StepStatus.UNDONE)
    return leftovers


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


def _secret_getter(platform: Platform, deployment_id: uuid.UUID) -> Callable[..., Any]:
    context = f"deployment:{deployment_id}"

    async def secret(name: str, generate: Callable[[], str]) -> str:
        async with platform.sessions.begin() as session:
            deployment = await deployments_repository.lock(session, deployment_id)
            assert deployment is not None
            sealed = deployment.sealed_credentials
            values = platform.secret_box.open_json(sealed, context=context) if sealed else {}
            if name not in values:
                values[name] = generate()
                deployment.sealed_credentials = platform.secret_box.seal_json(
                    values, context=context
                )
            value: str = values[name]
            return value

    return secret


def describe_failure(exc: BaseException) -> str:
    """A reason fit for the customer's eyes: never a SQL statement (it may hold a password)."""
    if isinstance(exc, WebHostError):
        return exc.message
    if isinstance(exc, DBAPIError):
        original = exc.orig.__cause__ if exc.orig is not None and exc.orig.__cause__ else exc.orig
        message = getattr(original, "message", None) or str(original).splitlines()[0]
        return f"database error: {message}"
    if isinstance(exc, ProvisioningError):
        return exc.message
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__

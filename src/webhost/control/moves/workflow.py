"""A move between shared and dedicated hosting, as one resumable workflow run.

Phases, each a step of the run's ledger: the target's provisioning steps, ``hold_target``,
``hold_source`` (503 with Retry-After, writes frozen), ``copy``, ``verify``, then ``switch``:
every key is published to the target, the target serves, and in one transaction the deployment
takes the new plan and mode and its routing (``plane_url``) points at the target. The edge
follows at once; the URLs the customer's apps hold never change. A verification failure, or any
failure on the last attempt, rolls back: the target is removed and the source serves again, as
it was. The source is removed after the safety window (``removal.py``).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import replace
from typing import TYPE_CHECKING

import httpx
import structlog

from webhost.control.billing import service as billing
from webhost.control.deployments import repository as deployments_repository
from webhost.control.deployments import service as deployments
from webhost.control.deployments.models import DeploymentStatus
from webhost.control.keys import repository as keys_repository
from webhost.control.moves.service import removal_time
from webhost.control.moves.steps import (
    CopyMismatch,
    move_phases,
    switch_hostnames,
    target_steps,
)
from webhost.control.plans import repository as plans_repository
from webhost.control.providers.base import DeploymentSpec, Provider, ProvisioningStep, StepRun
from webhost.control.provisioning import repository as provisioning
from webhost.control.provisioning.models import RunStatus, StepStatus, Workflow, WorkflowRun
from webhost.control.provisioning.runner import (
    StepFailed,
    apply_steps,
    compensate,
    describe_failure,
    secret_getter,
)
from webhost.data.tenancy.repository import ServingState
from webhost.errors import ProvisioningError
from webhost.jobs import enqueue

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from webhost.platform import Platform

log = structlog.get_logger(__name__)

SWITCH = "switch"
PLANE_START_SECONDS = 60.0


class MoveFailed(Exception):
    """Raised after the rollback, so the job ends as failed and is not retried."""


async def move(
    platform: Platform, deployment_id: uuid.UUID, run_id: uuid.UUID, *, final_attempt: bool
) -> None:
    async with platform.sessions.begin() as session:
        run = await _run_to_work_on(session, deployment_id, run_id)
        if run is None:
            return
        deployment = await deployments_repository.get(session, deployment_id)
        assert deployment is not None
        source = await deployments.spec_of(session, deployment)
        target_plan = await plans_repository.get_by_slug(session, run.parameters["to_plan"])
        if target_plan is None:
            raise ProvisioningError(f"the plan {run.parameters['to_plan']!r} no longer exists")
        target = await deployments.spec_of(session, deployment, target_plan)
        # the provider is the one chosen when the move started, whatever the plan says now
        target = replace(target, provider=run.parameters.get("to_provider", source.provider))
        ledger = await provisioning.ledger(session, run_id)
        source_run = uuid.UUID(run.parameters["source_run"])
    source_provider = platform.providers.get(source.provider)
    target_provider = platform.providers.get(target.provider)
    made = target_steps(target_provider, target)
    steps = [*made, *move_phases(source_provider, target_provider, source)]
    run_state = StepRun(target, secret=secret_getter(platform, deployment_id))
    undo = _Rollback(platform, run_id, source, source_provider, source_run, target, run_state)
    try:
        await apply_steps(platform, run_id, steps, run_state, ledger)
    except StepFailed as failed:
        final = final_attempt or isinstance(failed.__cause__, CopyMismatch)
        log.warning(
            "move step failed",
            deployment=str(deployment_id),
            run=str(run_id),
            reason=failed.reason,
            final=final,
        )
        if not final:
            raise
        await undo.run(steps[: failed.position + 1])
        raise MoveFailed(failed.reason) from failed
    try:
        await _switch(platform, target_provider, run_id, target, run_state, made, len(steps))
    except Exception as exc:
        if not final_attempt or await _switched(platform, run_id):
            raise
        reason = f"step '{SWITCH}' failed: {describe_failure(exc)}"
        async with platform.sessions.begin() as session:
            await provisioning.finish_step(session, run_id, SWITCH, StepStatus.FAILED, error=reason)
        await undo.run(steps)
        raise MoveFailed(reason) from exc


async def _switched(platform: Platform, run_id: uuid.UUID) -> bool:
    async with platform.sessions() as session:
        run = await provisioning.get_run(session, run_id)
        return run is not None and run.status == RunStatus.SUCCEEDED


async def _run_to_work_on(
    session: AsyncSession, deployment_id: uuid.UUID, run_id: uuid.UUID
) -> WorkflowRun | None:
    run = await provisioning.get_run(session, run_id)
    if (
        run is None
        or run.deployment_id != deployment_id
        or run.workflow != Workflow.MIGRATE
        or run.status != RunStatus.RUNNING
    ):
        return None  # a duplicate or late delivery
    deployment = await deployments_repository.get(session, deployment_id)
    if deployment is None or deployment.status != DeploymentStatus.MIGRATING:
        status = deployment.status.value if deployment else "deleted"
        await provisioning.finish_run(
            session, run_id, RunStatus.FAILED, error=f"the deployment became {status} mid-move"
        )
        return None
    return run


async def _switch(
    platform: Platform,
    provider: Provider,
    run_id: uuid.UUID,
    target: DeploymentSpec,
    run_state: StepRun,
    made: list[ProvisioningStep],
    position: int,
) -> None:
    endpoints = provider.endpoints(target, run_state.outputs)
    plane_url = endpoints.plane_url or endpoints.api_url
    async with platform.sessions.begin() as session:
        await provisioning.start_step(session, run_id, position, SWITCH)
    # a resumed move skipped the target's start: its plane may still be coming back up
    await _wait_answering(plane_url)
    while True:
        await _publish_every_key(platform, provider, target)
        await provider.set_serving_state(target, ServingState.ACTIVE)
        # stable hostnames now lead to the target (the edge follows plane_url below)
        await switch_hostnames(made, target, run_state.outputs)
        async with platform.sessions.begin() as session:
            deployment = await deployments_repository.lock(session, target.id)
            if deployment is None:
                return
            if await platform.key_courier.has_pending(session, target.id):
                pending = True  # a key changed since: the pass above may have missed it
            else:
                pending = False
                plan = await plans_repository.get_by_slug(session, target.plan_slug)
                assert plan is not None
                deployment.plan_id = plan.id
                deployment.mode = target.mode
                deployment.provider = target.provider
                deployment.region = target.region
                deployment.plane_url = plane_url
                deployment.status = DeploymentStatus.ACTIVE
                deployment.error = None
                remove_at = removal_time(platform.settings)
                run = await provisioning.get_run(session, run_id)
                assert run is not None
                run.parameters = {**run.parameters, "remove_source_at": remove_at.isoformat()}
                await provisioning.finish_step(
                    session, run_id, SWITCH, StepStatus.DONE, output={"plane": plane_url}
                )
                await provisioning.finish_run(session, run_id, RunStatus.SUCCEEDED)
                await enqueue(
                    session,
                    "remove_moved_source",
                    queue="provisioning",
                    # not the deployment's lock: a job waiting for its time would hold up others
                    lock=f"moved-source:{target.id}",
                    schedule_at=remove_at,
                    deployment_id=str(target.id),
                    run_id=str(run_id),
                )
        if not pending:
            break
        await platform.key_courier.deliver(target.id)
    log.info("deployment moved", deployment=str(target.id), plan=target.plan_slug)


async def _wait_answering(plane_url: str) -> None:
    deadline = time.monotonic() + PLANE_START_SECONDS
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            try:
                if (await client.get(f"{plane_url}/health")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise ProvisioningError(
                    f"the new data plane did not answer within {PLANE_START_SECONDS:.0f}s"
                )
            await asyncio.sleep(0.2)


async def _publish_every_key(
    platform: Platform, provider: Provider, target: DeploymentSpec
) -> None:
    """The target holds exactly the organization's keys as the control plane knows them now."""
    async with platform.sessions() as session:
        keys = await keys_repository.for_organization(session, target.organization_id)
    for key in keys:
        if key.revoked_at is None:
            await provider.publish_key(target, key.prefix, key.secret_digest, key.scope)
        else:
            await provider.revoke_key(target, key.prefix)


class _Rollback:
    """Undo what the move did, newest first: the source serves again (its hostnames lead to it
    again, should the switch have pointed them away), the target is gone."""

    def __init__(
        self,
        platform: Platform,
        run_id: uuid.UUID,
        source: DeploymentSpec,
        source_provider: Provider,
        source_run: uuid.UUID,
        target: DeploymentSpec,
        run_state: StepRun,
    ) -> None:
        self.platform = platform
        self.run_id = run_id
        self.source = source
        self.source_provider = source_provider
        self.source_run = source_run
        self.target = target
        self.run_state = run_state

    async def run(self, taken: list[ProvisioningStep]) -> None:
        platform, run_id, source, target = self.platform, self.run_id, self.source, self.target
        async with platform.sessions.begin() as session:
            ledger = await provisioning.ledger(session, run_id)
            reason = next(
                (entry.error for entry in ledger.values() if entry.status == StepStatus.FAILED),
                None,
            )
        leftovers = await compensate(platform, run_id, taken, self.run_state)
        try:
            await self._hostnames_back()
        except Exception as exc:
            leftovers.append(f"stable hostnames: {describe_failure(exc)}")
        await _restore_billing(platform, source, target)
        message = (
            f"the move to the {target.plan_slug} plan was rolled back ({reason or 'it failed'}); "
            f"the deployment stays on the {source.plan_slug} plan"
        )
        if leftovers:
            message += "; cleanup incomplete: " + "; ".join(leftovers)
        source_restored = not any(item.startswith("hold_source:") for item in leftovers)
        async with platform.sessions.begin() as session:
            deployment = await deployments_repository.lock(session, source.id)
            if deployment is not None:
                deployment.status = (
                    DeploymentStatus.ACTIVE if source_restored else DeploymentStatus.FAILED
                )
                deployment.error = message
            outcome = RunStatus.FAILED if leftovers else RunStatus.COMPENSATED
            await provisioning.finish_run(session, run_id, outcome, error=message)

    async def _hostnames_back(self) -> None:
        async with self.platform.sessions() as session:
            made = await provisioning.ledger(session, self.source_run)
        outputs = {name: entry.output for name, entry in made.items()}
        steps = list(self.source_provider.provision_steps(self.source))
        await switch_hostnames(steps, self.source, outputs)


async def _restore_billing(
    platform: Platform, source: DeploymentSpec, target: DeploymentSpec
) -> None:
    """The subscription was moved to the new plan when the move started: back it goes."""
    async with platform.sessions.begin() as session:
        plan = await plans_repository.get_by_slug(session, source.plan_slug)
        subscription = await billing.subscription_of(session, source.organization_id)
        if plan is None or subscription is None or subscription.plan_id == plan.id:
            return
        await billing.change_plan(session, subscription, plan)
        stripe_id, price = subscription.stripe_subscription_id, plan.stripe_price_id
    if platform.billing is None or stripe_id is None or price is None:
        return
    try:
        await platform.billing.api.change_subscription_price(stripe_id, price)
    except Exception as exc:  # the deployment is restored; the operator settles the price
        log.error(
            "could not put the subscription back on its price after a rolled-back move",
            deployment=str(source.id),
            reason=describe_failure(exc),
        )

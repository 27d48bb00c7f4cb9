"""Starting a move between shared and dedicated hosting, and finding what a move left behind.

A move is a workflow run (``migrate``) of the deployment; its parameters say from which plan to
which. The deployment is ``migrating`` until the run ends, then ``active`` on the new plan, or on
the old one when the move was rolled back.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from webhost.config import Settings
from webhost.control.deployments.models import Deployment, DeploymentStatus
from webhost.control.moves.schemas import MoveOut
from webhost.control.plans.models import Plan
from webhost.control.providers.registry import Providers
from webhost.control.provisioning import repository as provisioning
from webhost.control.provisioning.models import RunStatus, Workflow, WorkflowRun
from webhost.errors import Conflict, RetryLater
from webhost.jobs import enqueue, run_scheduled_now

QUEUE = "provisioning"
REMOVAL_RETRY_SECONDS = 10


class OldCopyBeingRemoved(RetryLater):
    """The safety window is over and the old copy's removal runs: a move can start after it."""

    status_code = 409
    code = "conflict"


async def start_move(
    session: AsyncSession,
    settings: Settings,
    providers: Providers,
    deployment: Deployment,
    current: Plan,
    plan: Plan,
) -> WorkflowRun:
    """``deployment`` is locked and active; queues the move in the caller's transaction."""
    target_provider = providers.name_for(plan.provider)
    for name in {deployment.provider, target_provider}:
        if not providers.get(name).moves_between_modes:
            raise Conflict(
                f"the {name} provider cannot move a deployment's data to or from another plane"
            )
    source_names = providers.get(deployment.provider).stable_hostnames
    if source_names != providers.get(target_provider).stable_hostnames:
        raise Conflict(
            f"the {plan.slug} plan's provider ({target_provider}) gives deployments other URLs "
            f"than {deployment.provider} does: a move would change the deployment's URLs"
        )
    if not source_names and not settings.edge:
        raise Conflict(
            "moving between shared and dedicated hosting keeps the deployment's URLs only "
            "behind the edge, which is off (WEBHOST_EDGE=false): the URLs would change"
        )
    kept = await old_copy_kept(session, deployment)
    if kept is not None:
        if kept > datetime.now(UTC):
            raise Conflict(
                "the copy this deployment moved from is kept until "
                f"{kept:%Y-%m-%d %H:%M} UTC in case the move must be undone; "
                "it can move again then"
            )
        raise OldCopyBeingRemoved(
            "the copy this deployment moved from is being removed; it can move again once "
            "that is done",
            retry_after_seconds=REMOVAL_RETRY_SECONDS,
        )
    run = await provisioning.open_run(
        session,
        deployment.id,
        Workflow.MIGRATE,
        parameters={
            "from_plan": current.slug,
            "to_plan": plan.slug,
            "from_mode": current.mode.value,
            "to_mode": plan.mode.value,
            "from_provider": deployment.provider,
            "to_provider": target_provider,
            "source_run": str(await _run_serving(session, deployment)),
        },
    )
    deployment.status = DeploymentStatus.MIGRATING
    deployment.error = None
    await enqueue(
        session,
        "move_deployment",
        queue=QUEUE,
        lock=f"deployment:{deployment.id}",
        deployment_id=str(deployment.id),
        run_id=str(run.id),
    )
    return run


async def _run_serving(session: AsyncSession, deployment: Deployment) -> str:
    run = await provisioning.serving_run(session, deployment.id)
    if run is None:
        raise Conflict(f"deployment {deployment.id} has no finished provisioning to move from")
    return str(run.id)


async def last_move(session: AsyncSession, deployment: Deployment) -> WorkflowRun | None:
    run: WorkflowRun | None = await session.scalar(
        select(WorkflowRun)
        .where(
            WorkflowRun.deployment_id == deployment.id,
            WorkflowRun.workflow == Workflow.MIGRATE,
            WorkflowRun.status == RunStatus.SUCCEEDED,
        )
        .order_by(WorkflowRun.finished_at.desc())
        .limit(1)
    )
    return run


async def old_copy_kept(session: AsyncSession, deployment: Deployment) -> datetime | None:
    """Until when the copy of the last move's source is kept; None when it is gone."""
    run = await last_move(session, deployment)
    if run is None or run.source_removed_at is not None or run.finished_at is None:
        return None
    removal = run.parameters.get("remove_source_at")
    return datetime.fromisoformat(removal) if removal else run.finished_at + timedelta(days=1)


def removal_time(settings: Settings) -> datetime:
    return datetime.now(UTC) + timedelta(hours=settings.move_safety_hours)


async def newest_move(session: AsyncSession, deployment: Deployment) -> MoveOut | None:
    run: WorkflowRun | None = await session.scalar(
        select(WorkflowRun)
        .where(WorkflowRun.deployment_id == deployment.id, WorkflowRun.workflow == Workflow.MIGRATE)
        .order_by(WorkflowRun.created_at.desc())
        .limit(1)
    )
    if run is None:
        return None
    kept = await old_copy_kept(session, deployment) if run.status == RunStatus.SUCCEEDED else None
    return MoveOut(
        from_plan=run.parameters.get("from_plan", "?"),
        to_plan=run.parameters.get("to_plan", "?"),
        status=run.status,
        error=run.error,
        started_at=run.created_at,
        finished_at=run.finished_at,
        old_copy_kept_until=kept,
        old_copy_removed_at=run.source_removed_at,
    )


async def remove_old_copy_now(session: AsyncSession, deployment: Deployment) -> datetime:
    """The operator ends the safety window early: the removal job scheduled for the window's
    end runs now."""
    run = await last_move(session, deployment)
    if run is None or run.source_removed_at is not None or run.finished_at is None:
        raise Conflict(f"deployment {deployment.id} keeps no copy from a move")
    now = datetime.now(UTC)
    run.parameters = {**run.parameters, "remove_source_at": now.isoformat()}
    lock = f"moved-source:{deployment.id}"
    if not await run_scheduled_now(session, "remove_moved_source", lock=lock):
        # its job is gone (failed for good, or never made): a new one
        await enqueue(
            session,
            "remove_moved_source",
            queue=QUEUE,
            lock=lock,
            deployment_id=str(deployment.id),
            run_id=str(run.id),
        )
    return now

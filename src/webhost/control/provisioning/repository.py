"""Workflow runs and their step ledgers: one row per (run, step)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from webhost.control.provisioning.models import (
    ProvisioningStep,
    RunStatus,
    StepStatus,
    Workflow,
    WorkflowRun,
)


async def open_run(
    session: AsyncSession,
    deployment_id: uuid.UUID,
    workflow: Workflow,
    parameters: dict[str, Any] | None = None,
) -> WorkflowRun:
    """The deployment's running run of the workflow, or a new one when none is running."""
    await session.execute(
        insert(WorkflowRun)
        .values(
            id=uuid.uuid4(),
            deployment_id=deployment_id,
            workflow=workflow,
            status=RunStatus.RUNNING,
            parameters=parameters or {},
        )
        .on_conflict_do_nothing(
            index_elements=["deployment_id", "workflow"], index_where=text("status = 'running'")
        )
    )
    run = await running_run(session, deployment_id, workflow)
    assert run is not None, "the insert or the run it conflicted with is visible now"
    return run


async def running_run(
    session: AsyncSession, deployment_id: uuid.UUID, workflow: Workflow
) -> WorkflowRun | None:
    run: WorkflowRun | None = await session.scalar(
        select(WorkflowRun).where(
            WorkflowRun.deployment_id == deployment_id,
            WorkflowRun.workflow == workflow,
            WorkflowRun.status == RunStatus.RUNNING,
        )
    )
    return run


async def get_run(session: AsyncSession, run_id: uuid.UUID) -> WorkflowRun | None:
    return await session.get(WorkflowRun, run_id)


async def newest_run(session: AsyncSession, deployment_id: uuid.UUID) -> WorkflowRun | None:
    run: WorkflowRun | None = await session.scalar(
        select(WorkflowRun)
        .where(WorkflowRun.deployment_id == deployment_id)
        .order_by(WorkflowRun.created_at.desc(), WorkflowRun.id.desc())
        .limit(1)
    )
    return run


async def finish_run(
    session: AsyncSession, run_id: uuid.UUID, status: RunStatus, *, error: str | None = None
) -> None:
    """End a running run; a run that already ended keeps its outcome."""
    await session.execute(
        update(WorkflowRun)
        .where(WorkflowRun.id == run_id, WorkflowRun.status == RunStatus.RUNNING)
        .values(status=status, error=error, finished_at=datetime.now(UTC))
    )


async def steps_of(session: AsyncSession, run_id: uuid.UUID) -> list[ProvisioningStep]:
    statement = (
        select(ProvisioningStep)
        .where(ProvisioningStep.run_id == run_id)
        .order_by(ProvisioningStep.position)
    )
    return list((await session.scalars(statement)).all())


async def ledger(session: AsyncSession, run_id: uuid.UUID) -> dict[str, ProvisioningStep]:
    return {step.name: step for step in await steps_of(session, run_id)}


async def start_step(session: AsyncSession, run_id: uuid.UUID, position: int, name: str) -> None:
    await session.execute(
        insert(ProvisioningStep)
        .values(
            id=uuid.uuid4(),
            run_id=run_id,
            position=position,
            name=name,
            status=StepStatus.RUNNING,
            attempts=1,
            output={},
        )
        .on_conflict_do_update(
            index_elements=["run_id", "name"],
            set_={
                "status": StepStatus.RUNNING,
                "attempts": ProvisioningStep.attempts + 1,
                "error": None,
                "updated_at": datetime.now(UTC),
            },
        )
    )


async def finish_step(
    session: AsyncSession,
    run_id: uuid.UUID,
    name: str,
    status: StepStatus,
    *,
    output: dict[str, Any] | None = None,
    error: str | None = None,
) -> None:
    values: dict[str, Any] = {
        "status": status,
        "error": error,
        "finished_at": datetime.now(UTC),
    }
    if output is not None:
        values["output"] = output
    await session.execute(
        update(ProvisioningStep)
        .where(ProvisioningStep.run_id == run_id, ProvisioningStep.name == name)
        .values(**values)
    )


async def serving_run(session: AsyncSession, deployment_id: uuid.UUID) -> WorkflowRun | None:
    """The run that made what serves the deployment now (its newest finished provisioning or
    move): its ledger says what there is to remove."""
    run: WorkflowRun | None = await session.scalar(
        select(WorkflowRun)
        .where(
            WorkflowRun.deployment_id == deployment_id,
            WorkflowRun.workflow.in_((Workflow.PROVISION, Workflow.MIGRATE)),
            WorkflowRun.status == RunStatus.SUCCEEDED,
        )
        .order_by(WorkflowRun.finished_at.desc())
        .limit(1)
    )
    return run

"""The step ledger: one row per (deployment, workflow, step)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from webhost.control.provisioning.models import ProvisioningStep, StepStatus, Workflow


async def ledger(
    session: AsyncSession, deployment_id: uuid.UUID, workflow: Workflow
) -> dict[str, ProvisioningStep]:
    rows = await session.scalars(
        select(ProvisioningStep).where(
            ProvisioningStep.deployment_id == deployment_id, ProvisioningStep.workflow == workflow
        )
    )
    return {row.name: row for row in rows}


async def start_step(
    session: AsyncSession, deployment_id: uuid.UUID, workflow: Workflow, position: int, name: str
) -> None:
    await session.execute(
        insert(ProvisioningStep)
        .values(
            id=uuid.uuid4(),
            deployment_id=deployment_id,
            workflow=workflow,
            position=position,
            name=name,
            status=StepStatus.RUNNING,
            attempts=1,
            output={},
        )
        .on_conflict_do_update(
            index_elements=["deployment_id", "workflow", "name"],
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
    deployment_id: uuid.UUID,
    workflow: Workflow,
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
        .where(
            ProvisioningStep.deployment_id == deployment_id,
            ProvisioningStep.workflow == workflow,
            ProvisioningStep.name == name,
        )
        .values(**values)
    )

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from webhost.db.base import Base, IdMixin, TimestampMixin


class Workflow(enum.StrEnum):
    PROVISION = "provision"
    DEPROVISION = "deprovision"
    MIGRATE = "migrate"


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # ended in failure; compensation left something behind or did not run
    COMPENSATED = "compensated"  # ended in failure, every step it took undone


class StepStatus(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    UNDONE = "undone"


def _values(members: type[enum.StrEnum]) -> list[str]:
    return [member.value for member in members]


class WorkflowRun(IdMixin, TimestampMixin, Base):
    """One run of a workflow for a deployment; its steps form its own ledger."""

    __tablename__ = "workflow_runs"
    __table_args__ = (
        Index(
            "uq_workflow_runs_running",
            "deployment_id",
            "workflow",
            unique=True,
            postgresql_where=text("status = 'running'"),
        ),
    )

    deployment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("deployments.id", ondelete="CASCADE"), index=True
    )
    workflow: Mapped[Workflow] = mapped_column(
        Enum(Workflow, name="workflow", values_callable=_values)
    )
    status: Mapped[RunStatus] = mapped_column(
        Enum(RunStatus, name="run_status", values_callable=_values)
    )
    parameters: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # a move's old copy, removed after the safety window
    source_removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ProvisioningStep(IdMixin, TimestampMixin, Base):
    """A run's ledger: what each step created, so retries skip it and undo finds it."""

    __tablename__ = "provisioning_steps"
    __table_args__ = (UniqueConstraint("run_id", "name"),)

    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workflow_runs.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(60))
    status: Mapped[StepStatus] = mapped_column(
        Enum(StepStatus, name="step_status", values_callable=_values)
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    output: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

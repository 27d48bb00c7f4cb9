from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from webhost.db.base import Base, IdMixin, TimestampMixin


class Workflow(enum.StrEnum):
    PROVISION = "provision"
    DEPROVISION = "deprovision"


class StepStatus(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    UNDONE = "undone"


class ProvisioningStep(IdMixin, TimestampMixin, Base):
    """The ledger of one workflow: what each step created, so retries skip it and undo finds it."""

    __tablename__ = "provisioning_steps"
    __table_args__ = (UniqueConstraint("deployment_id", "workflow", "name"),)

    deployment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("deployments.id", ondelete="CASCADE"), index=True
    )
    workflow: Mapped[Workflow] = mapped_column(
        Enum(Workflow, name="workflow", values_callable=lambda e: [m.value for m in e])
    )
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(60))
    status: Mapped[StepStatus] = mapped_column(
        Enum(StepStatus, name="step_status", values_callable=lambda e: [m.value for m in e])
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    output: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import DateTime, Enum, ForeignKey, Integer, LargeBinary, Text
from sqlalchemy.orm import Mapped, mapped_column

from webhost.db.base import Base, TimestampMixin


class DesiredState(enum.StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"


class LocalProcess(TimestampMixin, Base):
    """A dedicated data-plane process the supervisor keeps running on its fixed port."""

    __tablename__ = "local_processes"

    deployment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("deployments.id", ondelete="CASCADE"), primary_key=True
    )
    port: Mapped[int] = mapped_column(Integer, unique=True)
    desired_state: Mapped[DesiredState] = mapped_column(
        Enum(DesiredState, name="desired_state", values_callable=lambda e: [m.value for m in e])
    )
    sealed_environment: Mapped[bytes] = mapped_column(LargeBinary)
    pid: Mapped[int | None] = mapped_column(Integer)
    restarts: Mapped[int] = mapped_column(Integer, default=0)
    last_exit_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

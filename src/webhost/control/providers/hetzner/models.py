"""The shared hosts of the ``hetzner`` provider and which deployment sits on which host."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from webhost.db.base import Base, TimestampMixin, utcnow


class HostStatus(enum.StrEnum):
    CREATING = "creating"  # placed tenants wait until its plane answers
    READY = "ready"  # takes new tenants while it has room
    DRAINING = "draining"  # takes none; an operator moves its tenants off, then reclaims it


class SharedHost(TimestampMixin, Base):
    __tablename__ = "shared_hosts"
    __table_args__ = (CheckConstraint("capacity > 0", name="capacity_positive"),)

    # labels, names and the plane's hostname carry it (``shared-<10 hex>``)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[HostStatus] = mapped_column(
        Enum(HostStatus, name="shared_host_status", values_callable=lambda e: [m.value for m in e])
    )
    capacity: Mapped[int] = mapped_column(Integer)
    location: Mapped[str] = mapped_column(String(40))
    server_type: Mapped[str] = mapped_column(String(40))
    server_id: Mapped[int | None] = mapped_column(BigInteger)
    address: Mapped[str | None] = mapped_column(String(45))
    # {"management_token": ...}, sealed with the secret box under "shared-host:<id>"
    sealed_credentials: Mapped[bytes] = mapped_column(LargeBinary)
    # the deployment whose placement made the host, until another is placed on it: undoing
    # that deployment's placement removes the host at once
    created_for: Mapped[uuid.UUID | None] = mapped_column()
    # when its last tenant left (null while it has tenants); the reclaim sweep reads it
    empty_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class HostPlacement(Base):
    __tablename__ = "shared_host_placements"

    deployment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("deployments.id", ondelete="CASCADE"), primary_key=True
    )
    host_id: Mapped[str] = mapped_column(ForeignKey("shared_hosts.id"), index=True)
    placed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

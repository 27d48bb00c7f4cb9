from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Enum, ForeignKey, Index, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column

from webhost.db.base import Base, IdMixin, TimestampMixin


class KeyScope(enum.StrEnum):
    """What a key opens on a data plane."""

    FULL = "full"
    # a device key: it may only send positions (tracker apps are given nothing but a URL)
    INGEST = "ingest"


class ApiKey(IdMixin, TimestampMixin, Base):
    """An organization's data-plane key; the secret part exists only as a digest, except for
    the device key, whose secret is also kept sealed so its tracker URL can be shown again."""

    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint("scope IN ('full', 'ingest')", name="scope"),
        CheckConstraint("(scope = 'ingest') = (sealed_key IS NOT NULL)", name="sealed_device_key"),
        Index(
            "uq_api_keys_active_device_key",
            "organization_id",
            unique=True,
            postgresql_where=text("scope = 'ingest' AND revoked_at IS NULL"),
        ),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    secret_digest: Mapped[str] = mapped_column(String(64))
    scope: Mapped[KeyScope] = mapped_column(
        Enum(
            KeyScope,
            native_enum=False,
            create_constraint=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=KeyScope.FULL,
        server_default=KeyScope.FULL.value,
    )
    sealed_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

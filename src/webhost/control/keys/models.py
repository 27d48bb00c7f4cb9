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
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from webhost.db.base import Base, IdMixin, TimestampMixin, utcnow


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


class DeliveryAction(enum.StrEnum):
    PUBLISH = "publish"
    REVOKE = "revoke"


class KeyDelivery(Base):
    """The outbox of key changes: one row per change and deployment, written in the key's own
    transaction and delivered to the deployment's data plane after commit, in id order."""

    __tablename__ = "key_deliveries"
    __table_args__ = (
        CheckConstraint("action IN ('publish', 'revoke')", name="action"),
        Index(
            "ix_key_deliveries_pending",
            "deployment_id",
            "id",
            postgresql_where=text("delivered_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    deployment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("deployments.id", ondelete="CASCADE")
    )
    key_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    action: Mapped[DeliveryAction] = mapped_column(
        Enum(
            DeliveryAction,
            native_enum=False,
            create_constraint=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=utcnow
    )
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)

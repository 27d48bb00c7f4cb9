from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import DateTime, Enum, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webhost.control.plans.models import DeploymentMode
from webhost.db.base import Base, IdMixin, TimestampMixin


class DeploymentStatus(enum.StrEnum):
    # a paid signup's, until Stripe confirms the checkout: nothing is provisioned before
    AWAITING_PAYMENT = "awaiting_payment"
    PROVISIONING = "provisioning"
    ACTIVE = "active"
    # moving to a plan of the other mode (shared <-> dedicated); its URLs keep working
    MIGRATING = "migrating"
    # unpaid past the grace period, or its subscription ended: its plane answers 402
    SUSPENDED = "suspended"
    FAILED = "failed"
    DEPROVISIONING = "deprovisioning"
    DELETED = "deleted"


class Deployment(IdMixin, TimestampMixin, Base):
    """One provisioned backend; ``tenant_name`` names its database role and schema."""

    __tablename__ = "deployments"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plans.id"))
    mode: Mapped[DeploymentMode] = mapped_column(
        Enum(
            DeploymentMode,
            name="deployment_mode",
            values_callable=lambda e: [m.value for m in e],
            create_type=False,
        )
    )
    provider: Mapped[str] = mapped_column(String(40))
    region: Mapped[str | None] = mapped_column(String(20))
    tenant_name: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[DeploymentStatus] = mapped_column(
        Enum(
            DeploymentStatus,
            name="deployment_status",
            values_callable=lambda e: [m.value for m in e],
        )
    )
    # given to the customer's apps, the same for the deployment's life
    api_url: Mapped[str | None] = mapped_column(String(300))
    sync_url: Mapped[str | None] = mapped_column(String(300))
    # the plane that serves it now: where the edge sends its traffic
    plane_url: Mapped[str | None] = mapped_column(String(300))
    # whether its plane was last told to serve it ("suspended"; null: serving)
    plane_state: Mapped[str | None] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    sealed_credentials: Mapped[bytes | None] = mapped_column(LargeBinary)
    activated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

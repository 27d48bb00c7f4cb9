from __future__ import annotations

import enum
import uuid

from sqlalchemy import Enum, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from webhost.db.base import Base, IdMixin, TimestampMixin


class SubscriptionStatus(enum.StrEnum):
    ACTIVE = "active"
    CANCELED = "canceled"


class Subscription(IdMixin, TimestampMixin, Base):
    """Which plan an organization is on; payment details join this later."""

    __tablename__ = "subscriptions"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plans.id"))
    status: Mapped[SubscriptionStatus] = mapped_column(
        Enum(
            SubscriptionStatus,
            name="subscription_status",
            values_callable=lambda e: [m.value for m in e],
        )
    )

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Boolean, DateTime, Enum, ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from webhost.db.base import Base, IdMixin, TimestampMixin, utcnow


class SubscriptionStatus(enum.StrEnum):
    # a paid signup's until Stripe confirms the checkout
    INCOMPLETE = "incomplete"
    ACTIVE = "active"
    # a payment failed: the deployment keeps serving until ``grace_until``
    PAST_DUE = "past_due"
    CANCELED = "canceled"


class Subscription(IdMixin, TimestampMixin, Base):
    """Which plan an organization is on; when sold through Stripe, the Stripe subscription's
    state as its events told it."""

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
    stripe_customer_id: Mapped[str | None] = mapped_column(String(100))
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    stripe_checkout_session_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    # where the customer pays, while the subscription is incomplete
    checkout_url: Mapped[str | None] = mapped_column(Text)
    current_period_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False)
    grace_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    suspended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    canceled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # a cancelled subscription's data is kept until then, for the customer to export
    delete_after: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StripeEvent(Base):
    """A Stripe event already handled: a redelivery of it changes nothing."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=utcnow
    )

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import BigInteger, Boolean, Enum, Integer, String
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from webhost.db.base import Base, IdMixin, TimestampMixin


class DeploymentMode(enum.StrEnum):
    SHARED = "shared"
    DEDICATED = "dedicated"
    SELF_HOSTED = "self_hosted"


class Plan(IdMixin, TimestampMixin, Base):
    """A row of the catalog; limits left null mean unlimited."""

    __tablename__ = "plans"

    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(String(500), default="")
    price_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="usd")
    billing_interval: Mapped[str] = mapped_column(String(10), default="month")
    mode: Mapped[DeploymentMode] = mapped_column(
        Enum(DeploymentMode, name="deployment_mode", values_callable=lambda e: [m.value for m in e])
    )
    regions: Mapped[list[str]] = mapped_column(ARRAY(String(20)), default=list)
    replicas: Mapped[int] = mapped_column(Integer, default=0)
    retention_days: Mapped[int] = mapped_column(Integer)
    vehicle_limit: Mapped[int | None] = mapped_column(Integer)
    site_limit: Mapped[int | None] = mapped_column(Integer)
    user_limit: Mapped[int | None] = mapped_column(Integer)
    api_requests_per_second: Mapped[int | None] = mapped_column(Integer)
    gps_points_per_second: Mapped[int | None] = mapped_column(Integer)
    concurrent_connections: Mapped[int | None] = mapped_column(Integer)
    # largest Yjs document (encoded bytes) a tenant may keep; null: the data plane's default
    yjs_document_max_bytes: Mapped[int | None] = mapped_column(BigInteger)
    resources: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    features: Mapped[list[str]] = mapped_column(JSONB, default=list)
    # hosts the plan's deployments; null: the platform's default provider (WEBHOST_PROVIDER)
    provider: Mapped[str | None] = mapped_column(String(40))
    # the Stripe price a paid signup subscribes to; null: assigned without Stripe
    stripe_price_id: Mapped[str | None] = mapped_column(String(100))
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

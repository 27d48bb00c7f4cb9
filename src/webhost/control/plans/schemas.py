from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from webhost.control.plans.models import DeploymentMode

SLUG_PATTERN = r"^[a-z][a-z0-9-]{1,39}$"
PROVIDER_PATTERN = r"^[a-z][a-z0-9_]{1,39}$"
STRIPE_PRICE_PATTERN = r"^price_[A-Za-z0-9]{1,94}$"


class PlanOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    slug: str
    name: str
    description: str
    price_cents: int
    currency: str
    billing_interval: str
    mode: DeploymentMode
    regions: list[str]
    replicas: int
    retention_days: int
    vehicle_limit: int | None
    site_limit: int | None
    user_limit: int | None
    api_requests_per_second: int | None
    gps_points_per_second: int | None
    concurrent_connections: int | None
    yjs_document_max_bytes: int | None
    resources: dict[str, Any]
    features: list[str]
    provider: str | None
    stripe_price_id: str | None
    is_public: bool
    sort_order: int


class PlanFields(BaseModel):
    """Every editable field of a plan; limits set to null mean unlimited."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=80)
    description: str = Field(default="", max_length=500)
    price_cents: int = Field(ge=0, le=100_000_000)
    currency: str = Field(default="usd", pattern=r"^[a-z]{3}$")
    billing_interval: str = Field(default="month", pattern=r"^(month|year)$")
    mode: DeploymentMode
    regions: list[str] = Field(default_factory=list, max_length=20)
    replicas: int = Field(default=0, ge=0, le=20)
    retention_days: int = Field(ge=1, le=3650)
    vehicle_limit: int | None = Field(default=None, ge=0)
    site_limit: int | None = Field(default=None, ge=0)
    user_limit: int | None = Field(default=None, ge=0)
    api_requests_per_second: int | None = Field(default=None, ge=1)
    gps_points_per_second: int | None = Field(default=None, ge=1)
    concurrent_connections: int | None = Field(default=None, ge=1)
    yjs_document_max_bytes: int | None = Field(
        default=None,
        ge=1024,
        le=1 << 30,
        description="Largest Yjs document in bytes; null means the data plane's default.",
    )
    resources: dict[str, Any] = Field(default_factory=dict)
    features: list[str] = Field(default_factory=list, max_length=50)
    provider: str | None = Field(
        default=None,
        pattern=PROVIDER_PATTERN,
        description="The provider that hosts the plan's deployments; null: WEBHOST_PROVIDER.",
    )
    stripe_price_id: str | None = Field(
        default=None,
        pattern=STRIPE_PRICE_PATTERN,
        description="The Stripe price a paid signup subscribes to; null: no Stripe checkout.",
    )
    is_public: bool = True
    sort_order: int = 0


class PlanPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=80)
    description: str | None = Field(default=None, max_length=500)
    price_cents: int | None = Field(default=None, ge=0, le=100_000_000)
    regions: list[str] | None = None
    replicas: int | None = Field(default=None, ge=0, le=20)
    retention_days: int | None = Field(default=None, ge=1, le=3650)
    vehicle_limit: int | None = Field(default=None, ge=0)
    site_limit: int | None = Field(default=None, ge=0)
    user_limit: int | None = Field(default=None, ge=0)
    api_requests_per_second: int | None = Field(default=None, ge=1)
    gps_points_per_second: int | None = Field(default=None, ge=1)
    concurrent_connections: int | None = Field(default=None, ge=1)
    yjs_document_max_bytes: int | None = Field(default=None, ge=1024, le=1 << 30)
    resources: dict[str, Any] | None = None
    features: list[str] | None = None
    provider: str | None = Field(default=None, pattern=PROVIDER_PATTERN)
    stripe_price_id: str | None = Field(default=None, pattern=STRIPE_PRICE_PATTERN)
    is_public: bool | None = None
    sort_order: int | None = None

    @model_validator(mode="after")
    def _required_fields_stay_set(self) -> PlanPatch:
        for name in (
            "name",
            "description",
            "price_cents",
            "regions",
            "replicas",
            "retention_days",
            "resources",
            "features",
            "is_public",
            "sort_order",
        ):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

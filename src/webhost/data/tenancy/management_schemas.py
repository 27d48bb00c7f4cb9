"""Bodies of the data plane's management API (/_manage/v1), shared with its control-side client.

The shapes are the ones the control plane makes: tenant names from ``scope.tenant_name_for``,
key prefixes and SHA-256 digests from ``security.api_keys``, limits within the directory's checks.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from webhost.data.tenancy.limits import TenantLimits
from webhost.data.tenancy.management import TenantHoldings
from webhost.data.tenancy.repository import ServingState, TenantEntry
from webhost.validation import StorableText

TENANT_NAME_PATTERN = r"^t_[0-9a-f]{16}$"
KEY_PREFIX_PATTERN = r"^whs_live_[A-Za-z0-9]{12}$"
DIGEST_PATTERN = r"^[0-9a-f]{64}$"
INT4_MAX = 2_147_483_647
# the directory's status_message check
MAX_STATE_MESSAGE = 500

KeyPrefix = Annotated[str, Field(pattern=KEY_PREFIX_PATTERN, examples=["whs_live_AbCdEf123456"])]


class LimitsBody(BaseModel):
    """A plan's limits; null (or absent) means the plane's default (fleet limits: none)."""

    model_config = ConfigDict(extra="forbid")

    yjs_document_max_bytes: int | None = Field(default=None, ge=1, le=2**53)
    vehicle_limit: int | None = Field(default=None, ge=0, le=INT4_MAX)
    gps_points_per_second: int | None = Field(default=None, ge=1, le=INT4_MAX)
    retention_days: int | None = Field(default=None, ge=1, le=36_500)

    def to_limits(self) -> TenantLimits:
        return TenantLimits(
            yjs_document_max_bytes=self.yjs_document_max_bytes,
            vehicle_limit=self.vehicle_limit,
            gps_points_per_second=self.gps_points_per_second,
            retention_days=self.retention_days,
        )

    @classmethod
    def of(cls, limits: TenantLimits) -> LimitsBody:
        return cls(
            yjs_document_max_bytes=limits.yjs_document_max_bytes,
            vehicle_limit=limits.vehicle_limit,
            gps_points_per_second=limits.gps_points_per_second,
            retention_days=limits.retention_days,
        )


class TenantBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        pattern=TENANT_NAME_PATTERN,
        description="The tenant's role and schema: t_ and the first 16 hex digits of its id.",
        examples=["t_0123456789abcdef"],
    )
    limits: LimitsBody = Field(default_factory=LimitsBody)


class KeyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    secret_digest: str = Field(
        pattern=DIGEST_PATTERN, description="SHA-256 of the full key, lowercase hex."
    )
    scope: Literal["full", "ingest"] = "full"


class ServingStateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: ServingState
    message: StorableText | None = Field(
        default=None,
        max_length=MAX_STATE_MESSAGE,
        description="Shown to the tenant's callers while suspended (402) or held (503).",
    )


class TenantOut(BaseModel):
    id: uuid.UUID
    name: str
    limits: LimitsBody
    state: ServingState
    message: str | None

    @classmethod
    def of(cls, entry: TenantEntry) -> TenantOut:
        return cls(
            id=entry.tenant.id,
            name=entry.tenant.name,
            limits=LimitsBody.of(entry.limits),
            state=entry.state,
            message=entry.state_message,
        )


class HoldingsOut(BaseModel):
    vehicles: int
    oldest_position: datetime | None

    def to_holdings(self) -> TenantHoldings:
        return TenantHoldings(vehicles=self.vehicles, oldest_position=self.oldest_position)


class CapacityOut(BaseModel):
    tenants: int = Field(description="How many tenants this plane holds.")


class CopyOut(BaseModel):
    """What a restore wrote: tables and rows."""

    tables: int
    rows: int


class TableDigestOut(BaseModel):
    table: str
    rows: int
    digest: str


class DigestsOut(BaseModel):
    """Row count and content digest of every table of the tenant (``transfer.digests``)."""

    tables: list[TableDigestOut]

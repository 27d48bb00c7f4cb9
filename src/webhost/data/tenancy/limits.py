"""What a tenant's plan allows on its data plane, as published in the tenant directory."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TenantLimits:
    """None means the data plane's default applies (for the fleet limits: no limit)."""

    yjs_document_max_bytes: int | None = None
    vehicle_limit: int | None = None
    gps_points_per_second: int | None = None
    retention_days: int | None = None

"""Reads of the tenant directory (``webhost_dataplane``) of a data-plane database."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from webhost.data.tenancy.limits import TenantLimits
from webhost.data.tenancy.management import CATALOGUE_SCHEMA
from webhost.data.tenancy.scope import Tenant


class ServingState(enum.StrEnum):
    """Whether a tenant's keys open its data (the control plane decides; see management)."""

    ACTIVE = "active"
    # unpaid: answered 402 with the control plane's message; nothing is deleted
    SUSPENDED = "suspended"
    # its data is moving to another plane: answered 503 with Retry-After until it has
    HELD = "held"


@dataclass(frozen=True)
class KeyRecord:
    tenant: Tenant
    secret_digest: str
    revoked: bool
    limits: TenantLimits
    scope: str = "full"
    tenant_state: ServingState = ServingState.ACTIVE
    # why the tenant is not served, in the control plane's words
    state_message: str | None = None

    @property
    def tenant_active(self) -> bool:
        return self.tenant_state == ServingState.ACTIVE


async def find_key(connection: AsyncConnection, prefix: str) -> KeyRecord | None:
    row = (
        await connection.execute(
            text(
                "SELECT t.id, t.name, t.status, k.secret_digest, k.revoked_at IS NOT NULL, "
                "k.scope, "
                "t.yjs_document_max_bytes, t.vehicle_limit, t.gps_points_per_second, "
                "t.retention_days, t.status_message "
                f"FROM {CATALOGUE_SCHEMA}.api_keys k "
                f"JOIN {CATALOGUE_SCHEMA}.tenants t ON t.id = k.tenant_id "
                "WHERE k.prefix = :prefix"
            ),
            {"prefix": prefix},
        )
    ).one_or_none()
    if row is None:
        return None
    tenant_id, name, status, secret_digest, revoked, scope, *limits, message = row
    return KeyRecord(
        tenant=Tenant(id=tenant_id, name=name),
        secret_digest=secret_digest,
        revoked=revoked,
        limits=TenantLimits(*limits),
        scope=scope,
        tenant_state=ServingState(status),
        state_message=message,
    )


async def live_keys(
    connection: AsyncConnection, prefixes: list[str]
) -> dict[str, tuple[uuid.UUID, TenantLimits]]:
    """Of these key prefixes, those not revoked whose tenant is active: each key's tenant and
    that tenant's limits as they are now."""
    rows = await connection.execute(
        text(
            "SELECT k.prefix, t.id, t.yjs_document_max_bytes, t.vehicle_limit, "
            "t.gps_points_per_second, t.retention_days "
            f"FROM {CATALOGUE_SCHEMA}.api_keys k "
            f"JOIN {CATALOGUE_SCHEMA}.tenants t ON t.id = k.tenant_id "
            "WHERE k.prefix = ANY(:prefixes) AND k.revoked_at IS NULL AND t.status = 'active'"
        ),
        {"prefixes": prefixes},
    )
    return {row[0]: (row[1], TenantLimits(*row[2:])) for row in rows}


async def registered_tenants(
    connection: AsyncConnection, *, only: uuid.UUID | None = None
) -> list[Tenant]:
    rows = await connection.execute(
        text(
            f"SELECT id, name FROM {CATALOGUE_SCHEMA}.tenants "
            "WHERE CAST(:only AS uuid) IS NULL OR id = :only ORDER BY name"
        ),
        {"only": only},
    )
    return [Tenant(id=tenant_id, name=name) for tenant_id, name in rows]


async def revoked_prefixes(connection: AsyncConnection, prefixes: list[str]) -> set[str]:
    rows = await connection.execute(
        text(
            f"SELECT prefix FROM {CATALOGUE_SCHEMA}.api_keys "
            "WHERE prefix = ANY(:prefixes) AND revoked_at IS NOT NULL"
        ),
        {"prefixes": prefixes},
    )
    return {row[0] for row in rows}


async def registered_tenants_with_limits(
    connection: AsyncConnection, *, only: uuid.UUID | None = None
) -> list[tuple[Tenant, TenantLimits]]:
    rows = await connection.execute(
        text(
            "SELECT id, name, yjs_document_max_bytes, vehicle_limit, gps_points_per_second, "
            f"retention_days FROM {CATALOGUE_SCHEMA}.tenants "
            "WHERE CAST(:only AS uuid) IS NULL OR id = :only ORDER BY name"
        ),
        {"only": only},
    )
    return [(Tenant(id=row[0], name=row[1]), TenantLimits(*row[2:])) for row in rows]


@dataclass(frozen=True)
class TenantEntry:
    """A tenant as the directory has it: its limits and whether its keys open its data."""

    tenant: Tenant
    limits: TenantLimits
    state: ServingState
    state_message: str | None


async def find_tenant(connection: AsyncConnection, tenant_id: uuid.UUID) -> TenantEntry | None:
    row = (
        await connection.execute(
            text(
                "SELECT id, name, yjs_document_max_bytes, vehicle_limit, gps_points_per_second, "
                f"retention_days, status, status_message FROM {CATALOGUE_SCHEMA}.tenants "
                "WHERE id = :id"
            ),
            {"id": tenant_id},
        )
    ).one_or_none()
    if row is None:
        return None
    return TenantEntry(
        tenant=Tenant(id=row[0], name=row[1]),
        limits=TenantLimits(*row[2:6]),
        state=ServingState(row[6]),
        state_message=row[7],
    )


async def tenant_count(connection: AsyncConnection, *, only: uuid.UUID | None = None) -> int:
    count = await connection.scalar(
        text(
            f"SELECT count(*) FROM {CATALOGUE_SCHEMA}.tenants "
            "WHERE CAST(:only AS uuid) IS NULL OR id = :only"
        ),
        {"only": only},
    )
    return int(count or 0)


async def live_key_prefixes(connection: AsyncConnection, tenant_id: uuid.UUID) -> list[str]:
    rows = await connection.execute(
        text(
            f"SELECT prefix FROM {CATALOGUE_SCHEMA}.api_keys "
            "WHERE tenant_id = :id AND revoked_at IS NULL ORDER BY prefix"
        ),
        {"id": tenant_id},
    )
    return [row[0] for row in rows]

"""What a provider does to a data-plane database: roles, schemas, the tenant directory, keys.

Every operation is idempotent and reports whether it changed anything, so a provisioning step
can be retried after a crash without creating anything twice.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from webhost.data.tenancy.limits import TenantLimits
from webhost.data.tenancy.scope import Tenant, enter_tenant
from webhost.db import migrate
from webhost.db.admin import quote_ident

CATALOGUE_SCHEMA = "webhost_dataplane"
# every data plane on the database listens here to close sockets of revoked keys
REVOCATION_CHANNEL = "webhost_key_revoked"
_PASSWORD = re.compile(r"^[A-Za-z0-9]{16,128}$")


async def migrate_catalogue(connection: AsyncConnection) -> None:
    """Create or upgrade the tenant directory of this database (tenants, API keys)."""
    await connection.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('webhost:dataplane:catalogue'))")
    )
    await connection.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {CATALOGUE_SCHEMA}")
    await connection.exec_driver_sql(f"REVOKE ALL ON SCHEMA {CATALOGUE_SCHEMA} FROM PUBLIC")
    await migrate.upgrade(connection, migrate.DATAPLANE, version_table_schema=CATALOGUE_SCHEMA)


async def role_exists(connection: AsyncConnection, name: str) -> bool:
    found = await connection.scalar(
        text("SELECT 1 FROM pg_roles WHERE rolname = :name"), {"name": name}
    )
    return found is not None


async def ensure_role(
    connection: AsyncConnection, name: str, *, password: str | None = None
) -> bool:
    """A NOLOGIN role, or a LOGIN role when a password is given; True when created."""
    if await role_exists(connection, name):
        return False
    statement = f"CREATE ROLE {quote_ident(name)} NOLOGIN"
    if password is not None:
        if not _PASSWORD.fullmatch(password):
            raise ValueError("generated role passwords are alphanumeric")
        statement = f"CREATE ROLE {quote_ident(name)} LOGIN PASSWORD '{password}'"
    try:
        async with connection.begin_nested():
            await connection.exec_driver_sql(statement)
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) == "42710":  # created concurrently
            return False
        raise
    return True


async def drop_role(connection: AsyncConnection, name: str) -> bool:
    """Drop a role after dropping what it owns in this database (roles are cluster-wide)."""
    if not await role_exists(connection, name):
        return False
    role = quote_ident(name)
    await connection.exec_driver_sql(f"DROP OWNED BY {role} CASCADE")
    if await _owns_elsewhere(connection, name):
        return False  # a tenant moving between databases of one server owns both copies
    await connection.exec_driver_sql(f"DROP ROLE {role}")
    return True


async def _owns_elsewhere(connection: AsyncConnection, name: str) -> bool:
    found = await connection.scalar(
        text(
            "SELECT 1 FROM pg_shdepend d JOIN pg_roles r ON r.oid = d.refobjid "
            "WHERE r.rolname = :name AND d.deptype IN ('o', 'a') AND d.dbid <> 0 "
            "AND d.dbid <> (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "LIMIT 1"
        ),
        {"name": name},
    )
    return found is not None


async def schema_exists(connection: AsyncConnection, name: str) -> bool:
    found = await connection.scalar(
        text("SELECT 1 FROM pg_namespace WHERE nspname = :name"), {"name": name}
    )
    return found is not None


async def ensure_tenant_schema(connection: AsyncConnection, tenant: Tenant) -> bool:
    if await schema_exists(connection, tenant.name):
        return False
    name = quote_ident(tenant.name)
    await connection.exec_driver_sql(f"CREATE SCHEMA {name} AUTHORIZATION {name}")
    await connection.exec_driver_sql(f"REVOKE ALL ON SCHEMA {name} FROM PUBLIC")
    return True


async def drop_tenant_schema(connection: AsyncConnection, tenant: Tenant) -> bool:
    if not await schema_exists(connection, tenant.name):
        return False
    await connection.exec_driver_sql(f"DROP SCHEMA {quote_ident(tenant.name)} CASCADE")
    return True


async def migrate_tenants(engine: AsyncEngine, tenants: list[Tenant]) -> int:
    """Bring every tenant's schema to the newest revision (after an upgrade of WebHost);
    returns how many needed it. Up-to-date tenants cost one query each."""
    newest = migrate.head(migrate.TENANT)
    outdated = []
    async with engine.connect() as connection:
        for tenant in tenants:
            version = await connection.scalar(
                text(f"SELECT version_num FROM {quote_ident(tenant.name)}.alembic_version")
            )
            if version != newest:
                outdated.append(tenant)
    for tenant in outdated:
        await migrate_tenant(engine, tenant)
    return len(outdated)


async def migrate_tenant(engine: AsyncEngine, tenant: Tenant, revision: str = "head") -> None:
    """Run the tenant migrations as the tenant itself, so it owns every object they create."""
    async with engine.begin() as connection:
        await connection.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:name))"),
            {"name": f"webhost:tenant:{tenant.name}"},
        )
        await enter_tenant(connection, tenant)
        await migrate.upgrade(
            connection, migrate.TENANT, revision=revision, version_table_schema=tenant.name
        )


async def grant_plane_access(connection: AsyncConnection, plane_role: str, tenant: Tenant) -> None:
    """Let a dedicated data-plane login role read the directory and act as its tenant."""
    plane, tenant_role = quote_ident(plane_role), quote_ident(tenant.name)
    await connection.exec_driver_sql(f"GRANT {tenant_role} TO {plane}")
    await connection.exec_driver_sql(f"GRANT USAGE ON SCHEMA {CATALOGUE_SCHEMA} TO {plane}")
    await connection.exec_driver_sql(
        f"GRANT SELECT ON ALL TABLES IN SCHEMA {CATALOGUE_SCHEMA} TO {plane}"
    )


async def register_tenant(
    connection: AsyncConnection, tenant: Tenant, limits: TenantLimits | None = None
) -> None:
    """Add the tenant to the directory, or bring its limits up to date."""
    limits = limits or TenantLimits()
    await connection.execute(
        text(
            f"INSERT INTO {CATALOGUE_SCHEMA}.tenants (id, name, yjs_document_max_bytes, "
            "vehicle_limit, gps_points_per_second, retention_days) "
            "VALUES (:id, :name, :document_max_bytes, :vehicles, :points, :retention) "
            "ON CONFLICT (id) DO UPDATE "
            "SET yjs_document_max_bytes = EXCLUDED.yjs_document_max_bytes, "
            "vehicle_limit = EXCLUDED.vehicle_limit, "
            "gps_points_per_second = EXCLUDED.gps_points_per_second, "
            "retention_days = EXCLUDED.retention_days"
        ),
        {
            "id": tenant.id,
            "name": tenant.name,
            "document_max_bytes": limits.yjs_document_max_bytes,
            "vehicles": limits.vehicle_limit,
            "points": limits.gps_points_per_second,
            "retention": limits.retention_days,
        },
    )


async def unregister_tenant(connection: AsyncConnection, tenant_id: uuid.UUID) -> bool:
    result = await connection.execute(
        text(f"DELETE FROM {CATALOGUE_SCHEMA}.tenants WHERE id = :id"), {"id": tenant_id}
    )
    return bool(result.rowcount)


async def set_serving_state(
    connection: AsyncConnection, tenant_id: uuid.UUID, state: str, message: str | None = None
) -> None:
    """``state``: ``active``, ``suspended`` (402 with ``message``) or ``held`` (503). Planes drop
    what they hold for the tenant's keys and close its sockets, so clients meet the new state
    on their next request or reconnect."""
    await connection.execute(
        text(
            f"UPDATE {CATALOGUE_SCHEMA}.tenants SET status = :state, status_message = :message "
            "WHERE id = :id"
        ),
        {"id": tenant_id, "state": state, "message": message},
    )
    await connection.execute(
        text(
            "SELECT pg_notify(:channel, prefix || ' ' || :state) "
            f"FROM {CATALOGUE_SCHEMA}.api_keys WHERE tenant_id = :id AND revoked_at IS NULL"
        ),
        {"channel": REVOCATION_CHANNEL, "id": tenant_id, "state": state},
    )


@dataclass(frozen=True)
class TenantHoldings:
    """What a tenant keeps that a smaller plan may not allow."""

    vehicles: int
    oldest_position: datetime | None


async def tenant_holdings(connection: AsyncConnection, tenant: Tenant) -> TenantHoldings:
    schema = quote_ident(tenant.name)
    row = (
        await connection.execute(
            text(
                f"SELECT (SELECT count(*) FROM {schema}.fleet_vehicles), "
                f"(SELECT min(device_time) FROM {schema}.fleet_positions)"
            )
        )
    ).one()
    return TenantHoldings(vehicles=int(row[0]), oldest_position=row[1])


async def publish_key(
    connection: AsyncConnection,
    tenant_id: uuid.UUID,
    prefix: str,
    secret_digest: str,
    scope: str = "full",
) -> None:
    """``scope``: ``full``, or ``ingest`` for a device key that may only send positions."""
    await connection.execute(
        text(
            f"INSERT INTO {CATALOGUE_SCHEMA}.api_keys (prefix, tenant_id, secret_digest, scope) "
            "VALUES (:prefix, :tenant_id, :digest, :scope) "
            "ON CONFLICT (prefix) DO UPDATE SET secret_digest = EXCLUDED.secret_digest, "
            "tenant_id = EXCLUDED.tenant_id, scope = EXCLUDED.scope"
        ),
        {"prefix": prefix, "tenant_id": tenant_id, "digest": secret_digest, "scope": scope},
    )


async def revoke_key(connection: AsyncConnection, prefix: str) -> None:
    await connection.execute(
        text(
            f"UPDATE {CATALOGUE_SCHEMA}.api_keys SET revoked_at = now() "
            "WHERE prefix = :prefix AND revoked_at IS NULL"
        ),
        {"prefix": prefix},
    )
    # open sockets authenticated with this key are closed by the data planes listening here
    await connection.execute(
        text("SELECT pg_notify(:channel, :prefix)"),
        {"channel": REVOCATION_CHANNEL, "prefix": prefix},
    )

"""Freezing a tenant's data where it is, so a copy of it is complete: nothing more can be
written there until it is thawed.

Freezing waits for every write in flight (an EXCLUSIVE lock on each of the tenant's tables lets
readers in and waits out writers), then takes the tenant role's right to write. A request that
passed its checks before the freeze and reaches the database after it fails for want of the
privilege, and the plane answers it 503 with Retry-After (``data/database_errors.py``): no write
is acknowledged on a frozen copy.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from webhost.data.tenancy.scope import Tenant
from webhost.db.admin import quote_ident

# how long a freeze waits for writes in flight before it gives up (and the move is retried)
LOCK_TIMEOUT = "30s"
_WRITES = "INSERT, UPDATE, DELETE, TRUNCATE"


async def tenant_tables(connection: AsyncConnection, tenant: Tenant) -> list[str]:
    """The tenant's tables as data lives in them: partitioned parents, not their partitions."""
    rows = await connection.execute(
        text(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = :schema AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
            "ORDER BY c.relname"
        ),
        {"schema": tenant.name},
    )
    return [row[0] for row in rows]


def qualified(tenant: Tenant, table: str) -> str:
    return f"{quote_ident(tenant.name)}.{quote_ident(table)}"


async def freeze(connection: AsyncConnection, tenant: Tenant) -> None:
    """Run as the server's administrator, in a transaction of its own; idempotent."""
    await connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
    tables = await tenant_tables(connection, tenant)
    if tables:
        listed = ", ".join(qualified(tenant, table) for table in tables)
        await connection.exec_driver_sql(f"LOCK TABLE {listed} IN EXCLUSIVE MODE")
    schema, role = quote_ident(tenant.name), quote_ident(tenant.name)
    await connection.exec_driver_sql(
        f"REVOKE {_WRITES} ON ALL TABLES IN SCHEMA {schema} FROM {role}"
    )
    # a partition made after the freeze (a late position's week) is read-only from the start
    await connection.exec_driver_sql(
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {role} IN SCHEMA {schema} REVOKE {_WRITES} "
        f"ON TABLES FROM {role}"
    )


async def thaw(connection: AsyncConnection, tenant: Tenant) -> None:
    """Give the tenant its writes back (a move that did not happen); idempotent."""
    schema, role = quote_ident(tenant.name), quote_ident(tenant.name)
    await connection.exec_driver_sql(f"GRANT {_WRITES} ON ALL TABLES IN SCHEMA {schema} TO {role}")
    await connection.exec_driver_sql(
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {role} IN SCHEMA {schema} GRANT {_WRITES} "
        f"ON TABLES TO {role}"
    )


async def is_frozen(connection: AsyncConnection, tenant: Tenant) -> bool:
    """Whether the tenant role has lost its writes on any of its tables."""
    tables = await tenant_tables(connection, tenant)
    for table in tables:
        allowed = await connection.scalar(
            text("SELECT has_table_privilege(:role, :table, 'INSERT')"),
            {"role": tenant.name, "table": qualified(tenant, table)},
        )
        if not allowed:
            return True
    return False

"""The one place that opens tenant-scoped transactions.

Every data-plane statement runs as the tenant's own role with only the tenant's schema on the
search path, so PostgreSQL itself refuses anything outside that schema.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

TENANT_NAME = re.compile(r"^t_[a-z0-9]{8,32}$")

# one round trip; the statement timeout keeps one tenant's heavy query from holding a connection
_ENTER_TENANT_SQL = (
    "SELECT set_config('role', {name}, true), set_config('search_path', {name}, true), "
    "set_config('statement_timeout', '30s', true)"
)
_ENTER_TENANT = text(_ENTER_TENANT_SQL.format(name=":tenant"))
_ENTER_TENANT_DRIVER = _ENTER_TENANT_SQL.format(name="$1")


@dataclass(frozen=True)
class Tenant:
    """``name`` is both the tenant's PostgreSQL role and its schema."""

    id: uuid.UUID
    name: str

    def __post_init__(self) -> None:
        if not TENANT_NAME.fullmatch(self.name):
            raise ValueError(f"not a tenant name: {self.name!r}")


def tenant_name_for(deployment_id: uuid.UUID) -> str:
    return f"t_{deployment_id.hex[:16]}"


@asynccontextmanager
async def tenant_transaction(engine: AsyncEngine, tenant: Tenant) -> AsyncIterator[AsyncConnection]:
    async with engine.begin() as connection:
        await enter_tenant(connection, tenant)
        yield connection


class TenantTurns:
    """One transaction that acts for several tenants in turn, each time as that tenant alone.
    It runs on a bare asyncpg connection: group commit is the data plane's hottest path."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def enter(self, tenant: Tenant) -> asyncpg.Connection:
        """Switch to the tenant; every statement until the next switch runs as it."""
        await self._connection.execute(_ENTER_TENANT_DRIVER, tenant.name)
        return self._connection


@asynccontextmanager
async def shared_transaction(connection: asyncpg.Connection) -> AsyncIterator[TenantTurns]:
    """Group commit: the writes of many tenants share one commit (and one fsync)."""
    async with connection.transaction():
        yield TenantTurns(connection)


async def enter_tenant(connection: AsyncConnection, tenant: Tenant) -> None:
    """Switch an open transaction to the tenant; reverts by itself at commit or rollback."""
    await connection.execute(_ENTER_TENANT, {"tenant": tenant.name})

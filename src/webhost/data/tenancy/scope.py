"""The one place that opens tenant-scoped transactions.

Every data-plane statement runs as the tenant's own role with only the tenant's schema on the
search path, so PostgreSQL itself refuses anything outside that schema. The one exception is
group commit, which writes many tenants' Yjs updates in one statement: it calls each tenant's
``append_yjs_updates``, a function the tenant owns and that runs as the tenant (tenant
migration 0002), so the same rule holds there too.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

TENANT_NAME = re.compile(r"^t_[a-z0-9]{8,32}$")

# one round trip; the statement timeout keeps one tenant's heavy query from holding a connection
_ENTER_TENANT = (
    "SELECT set_config('role', :tenant, true), set_config('search_path', :tenant, true), "
    "set_config('statement_timeout', '30s', true)"
)
# Planner settings for a transaction that only finds rows by key. Its statements are prepared
# once per connection and PostgreSQL caches a generic plan: made while a collection is small,
# that plan is a hash join over a sequential scan, kept as the table grows to millions of rows.
# Without scans or hash and merge joins, the plans are index lookups whatever the table's size.
KEY_LOOKUP_SETTINGS = (
    "set_config('enable_seqscan', 'off', true), "
    "set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)"
)
_ENTER_TENANT_FOR_KEY_LOOKUPS = text(f"{_ENTER_TENANT}, {KEY_LOOKUP_SETTINGS}")
_ENTER_TENANT_STATEMENT = text(_ENTER_TENANT)
KEY_LOOKUPS_PLANNED = "webhost.key_lookups_planned"


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


async def enter_tenant(
    connection: AsyncConnection, tenant: Tenant, *, key_lookups: bool = False
) -> None:
    """Switch an open transaction to the tenant; reverts by itself at commit or rollback.

    ``key_lookups``: the transaction's statements are planned as index lookups by key.
    """
    statement = _ENTER_TENANT_FOR_KEY_LOOKUPS if key_lookups else _ENTER_TENANT_STATEMENT
    await connection.execute(statement, {"tenant": tenant.name})
    # the connection's info outlives the transaction: every entry sets it anew
    connection.info[KEY_LOOKUPS_PLANNED] = key_lookups

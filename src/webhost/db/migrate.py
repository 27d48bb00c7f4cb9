"""Alembic, run programmatically on a connection we already hold.

Three migration trees share this runner: the control database, the data-plane catalogue
(``webhost_dataplane`` schema in every data-plane database) and each tenant's own schema.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from alembic import command, context
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.util import await_only

CONTROL = "webhost.db:migrations/control"
DATAPLANE = "webhost.data.tenancy:migrations/dataplane"
TENANT = "webhost.data.tenancy:migrations/tenant"


# Alembic keeps the running migration's context in module globals (alembic.context, alembic.op),
# so two migrations at once in one process, even on one event loop, corrupt each other
_ALEMBIC_IN_USE = threading.Lock()


@asynccontextmanager
async def _one_migration_at_a_time() -> AsyncIterator[None]:
    while not _ALEMBIC_IN_USE.acquire(blocking=False):  # noqa: ASYNC110 - a thread lock
        await asyncio.sleep(0.01)
    try:
        yield
    finally:
        _ALEMBIC_IN_USE.release()


@functools.cache
def head(location: str) -> str:
    """The newest revision of a migration tree."""
    config = Config()
    config.set_main_option("script_location", location)
    revision = ScriptDirectory.from_config(config).get_current_head()
    assert revision is not None, f"{location} has no migrations"
    return revision


def _config(location: str, connection: Connection, version_table_schema: str | None) -> Config:
    config = Config()
    config.set_main_option("script_location", location)
    config.attributes["connection"] = connection
    config.attributes["version_table_schema"] = version_table_schema
    return config


async def _lock_tree(
    connection: AsyncConnection, location: str, version_table_schema: str | None
) -> None:
    lock_name = f"webhost:migrate:{location}:{version_table_schema or ''}"
    await connection.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": lock_name}
    )


async def upgrade(
    connection: AsyncConnection,
    location: str,
    *,
    version_table_schema: str | None = None,
    revision: str = "head",
) -> None:
    """Upgrade inside the caller's transaction; concurrent upgraders wait for each other."""
    await _lock_tree(connection, location, version_table_schema)

    def _run(sync_connection: Connection) -> None:
        command.upgrade(_config(location, sync_connection, version_table_schema), revision)

    async with _one_migration_at_a_time():
        await connection.run_sync(_run)


async def downgrade(
    connection: AsyncConnection,
    location: str,
    revision: str,
    *,
    version_table_schema: str | None = None,
) -> None:
    """Downgrade to ``revision`` inside the caller's transaction (an operator's way back)."""
    await _lock_tree(connection, location, version_table_schema)

    def _run(sync_connection: Connection) -> None:
        command.downgrade(_config(location, sync_connection, version_table_schema), revision)

    async with _one_migration_at_a_time():
        await connection.run_sync(_run)


def run_env(target_metadata: MetaData | None) -> None:
    """Body of every env.py: migrate the connection handed over in ``config.attributes``."""
    config = context.config
    connection: Connection = config.attributes["connection"]
    schema: str | None = config.attributes.get("version_table_schema")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table_schema=schema,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def execute_script(sql: str) -> None:
    """Run a multi-statement script (asyncpg refuses those as prepared statements)."""
    from alembic import op

    driver_connection: Any = op.get_bind().connection.driver_connection
    await_only(driver_connection.execute(sql))

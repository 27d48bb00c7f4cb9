"""Alembic, run programmatically on a connection we already hold.

Three migration trees share this runner: the control database, the data-plane catalogue
(``webhost_dataplane`` schema in every data-plane database) and each tenant's own schema.
"""

from __future__ import annotations

from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Connection, MetaData, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.util import await_only

CONTROL = "webhost.db:migrations/control"
DATAPLANE = "webhost.data.tenancy:migrations/dataplane"
TENANT = "webhost.data.tenancy:migrations/tenant"


def _config(location: str, connection: Connection, version_table_schema: str | None) -> Config:
    config = Config()
    config.set_main_option("script_location", location)
    config.attributes["connection"] = connection
    config.attributes["version_table_schema"] = version_table_schema
    return config


async def upgrade(
    connection: AsyncConnection,
    location: str,
    *,
    version_table_schema: str | None = None,
    revision: str = "head",
) -> None:
    """Upgrade inside the caller's transaction; concurrent upgraders wait for each other."""
    lock_name = f"webhost:migrate:{location}:{version_table_schema or ''}"
    await connection.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": lock_name}
    )

    def _run(sync_connection: Connection) -> None:
        command.upgrade(_config(location, sync_connection, version_table_schema), revision)

    await connection.run_sync(_run)


async def current_revision(
    connection: AsyncConnection, location: str, *, version_table_schema: str | None = None
) -> str | None:
    from alembic.runtime.migration import MigrationContext

    def _read(sync_connection: Connection) -> str | None:
        options: dict[str, Any] = {}
        if version_table_schema:
            options["version_table_schema"] = version_table_schema
        return MigrationContext.configure(sync_connection, opts=options).get_current_revision()

    return await connection.run_sync(_read)


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

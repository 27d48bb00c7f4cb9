"""What a provider may use of the control plane: no more than this.

Providers create infrastructure and record what they made; they never reach into the control
plane's other services, so they get the database server, the control sessions, the secret box
and the settings, and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from webhost.config import Settings
from webhost.data.tenancy import management
from webhost.db import admin
from webhost.db.engine import create_engine
from webhost.db.urls import PostgresURL
from webhost.security.secret_box import SecretBox


@dataclass(frozen=True)
class ProviderContext:
    settings: Settings
    # the PostgreSQL server, as its administrator (its ``postgres`` database)
    server: PostgresURL
    control_database: PostgresURL
    sessions: async_sessionmaker[AsyncSession]
    secret_box: SecretBox

    @property
    def shared_database(self) -> PostgresURL:
        return shared_database_of(self.control_database)


def shared_database_of(control_database: PostgresURL) -> PostgresURL:
    """The local shared data plane's database, beside the control database."""
    return control_database.with_database(f"{control_database.database}_shared")


async def prepare_shared_database(server: PostgresURL, shared_database: PostgresURL) -> None:
    """The shared data plane's database and tenant directory exist before it serves."""
    await admin.ensure_database(server, shared_database.database)
    engine = create_engine(shared_database, pool_size=1)
    try:
        async with engine.begin() as connection:
            await management.migrate_catalogue(connection)
    finally:
        await engine.dispose()

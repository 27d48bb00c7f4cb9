from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import text

from tests.support.database import create_dataplane_database
from webhost.data.tenancy import management
from webhost.data.tenancy.scope import Tenant, tenant_name_for
from webhost.db.engine import create_engine
from webhost.db.urls import PostgresURL


def test_concurrent_tenant_migrations_in_one_process_all_complete(
    postgres_server: PostgresURL,
) -> None:
    database = create_dataplane_database(postgres_server)
    tenants = [Tenant(id=i, name=tenant_name_for(i)) for i in (uuid.uuid4() for _ in range(6))]

    async def provision_all() -> list[int]:
        engine = create_engine(database, pool_size=6)
        try:
            async with engine.begin() as connection:
                for tenant in tenants:
                    await management.ensure_role(connection, tenant.name)
                    await management.ensure_tenant_schema(connection, tenant)
            await asyncio.gather(*(management.migrate_tenant(engine, t) for t in tenants))
            counts = []
            async with engine.connect() as connection:
                for tenant in tenants:
                    counts.append(
                        await connection.scalar(
                            text(
                                "SELECT count(*) FROM pg_tables WHERE schemaname = :schema "
                                "AND tablename IN ('_collections', '_yjs_updates', "
                                "'_yjs_documents', 'alembic_version')"
                            ),
                            {"schema": tenant.name},
                        )
                    )
            return counts
        finally:
            await engine.dispose()

    assert asyncio.run(provision_all()) == [4] * len(tenants)

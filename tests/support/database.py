"""Databases for tests: a real PostgreSQL, fresh databases, tenants provisioned for real."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

import asyncpg
from sqlalchemy import text

from webhost.data.tenancy import management
from webhost.data.tenancy.limits import TenantLimits
from webhost.data.tenancy.scope import Tenant, tenant_name_for
from webhost.db import admin
from webhost.db.engine import create_engine
from webhost.db.urls import PostgresURL
from webhost.security.api_keys import generate_api_key

# every database a test run creates carries this mark, so the run can drop them afterwards
RUN_MARK = f"wht{uuid.uuid4().hex[:6]}"


def create_fresh_database(server: PostgresURL, prefix: str) -> PostgresURL:
    name = f"{RUN_MARK}_{prefix}_{uuid.uuid4().hex[:8]}"
    asyncio.run(admin.ensure_database(server, name))
    return server.with_database(name)


def drop_run_databases(server: PostgresURL) -> None:
    """Drop this run's databases (and the dedicated ones they made), then unused tenant roles."""

    async def drop() -> None:
        connection = await admin.connect(server.with_database("postgres"))
        try:
            names = [
                row[0]
                for row in await connection.fetch(
                    "SELECT datname FROM pg_database WHERE datname LIKE $1 || '%'", RUN_MARK
                )
            ]
            tenants: list[str] = []
            for name in names:
                tenants += await _tenants_of(server.with_database(name))
            for name in [*names, *(f"wh_{tenant}" for tenant in tenants)]:
                await connection.execute(
                    f"DROP DATABASE IF EXISTS {admin.quote_ident(name)} WITH (FORCE)"
                )
            for tenant in tenants:
                for role in (f"{tenant}_plane", tenant):
                    try:
                        await connection.execute(f"DROP ROLE IF EXISTS {admin.quote_ident(role)}")
                    except asyncpg.PostgresError:
                        continue  # still owns objects elsewhere: leave it
        finally:
            await connection.close()

    asyncio.run(drop())


async def _tenants_of(database: PostgresURL) -> list[str]:
    """Tenant names a control or data-plane database of this run knows about."""
    connection = await admin.connect(database)
    try:
        for query in (
            "SELECT tenant_name FROM deployments",
            "SELECT name FROM webhost_dataplane.tenants",
        ):
            try:
                return [row[0] for row in await connection.fetch(query)]
            except asyncpg.UndefinedTableError:
                continue
        return []
    finally:
        await connection.close()


async def execute_pooled(database: PostgresURL, *statements: str) -> None:
    """Statements in one transaction of WebHost's own engine (SQLAlchemy's pool, asyncpg)."""
    engine = create_engine(database, pool_size=1)
    try:
        async with engine.begin() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


def create_dataplane_database(
    server: PostgresURL, *, timescaledb: bool = True, postgis: bool = True
) -> PostgresURL:
    """A data-plane database; ``timescaledb=False``: without TimescaleDB even where the server
    has it (as most servers are), so its tenants keep positions in weekly partitions;
    ``postgis=False``: without PostGIS, so its tenants take the core spatial path."""
    url = create_fresh_database(server, "dp")

    async def migrate() -> None:
        engine = create_engine(url, pool_size=1)
        try:
            async with engine.begin() as connection:
                await management.migrate_catalogue(connection)
                if not timescaledb:
                    await connection.exec_driver_sql("DROP EXTENSION IF EXISTS timescaledb")
                if not postgis:
                    await connection.exec_driver_sql("DROP EXTENSION IF EXISTS postgis")
        finally:
            await engine.dispose()

    asyncio.run(migrate())
    return url


@dataclass(frozen=True)
class ProvisionedTenant:
    tenant: Tenant
    api_key: str
    key_prefix: str


def provision_tenant(
    database: PostgresURL, *, limits: TenantLimits | None = None, revision: str = "head"
) -> ProvisionedTenant:
    """What the local provider does for a shared tenant, without the control plane; an older
    ``revision`` makes a tenant as an earlier release left it."""
    tenant_id = uuid.uuid4()
    tenant = Tenant(id=tenant_id, name=tenant_name_for(tenant_id))
    key = generate_api_key()

    async def provision() -> None:
        engine = create_engine(database, pool_size=1)
        try:
            async with engine.begin() as connection:
                await management.ensure_role(connection, tenant.name)
                await management.ensure_tenant_schema(connection, tenant)
            await management.migrate_tenant(engine, tenant, revision)
            async with engine.begin() as connection:
                await management.register_tenant(connection, tenant, limits)
                await management.publish_key(connection, tenant.id, key.prefix, key.secret_digest)
        finally:
            await engine.dispose()

    asyncio.run(provision())
    return ProvisionedTenant(tenant=tenant, api_key=key.full_key, key_prefix=key.prefix)


def add_key(database: PostgresURL, tenant: Tenant, *, scope: str = "full") -> tuple[str, str]:
    """A new key of the tenant (``scope="ingest"``: a device key); returns (key, prefix)."""
    key = generate_api_key()

    async def publish() -> None:
        engine = create_engine(database, pool_size=1)
        try:
            async with engine.begin() as connection:
                await management.publish_key(
                    connection, tenant.id, key.prefix, key.secret_digest, scope=scope
                )
        finally:
            await engine.dispose()

    asyncio.run(publish())
    return key.full_key, key.prefix


def revoke_key(database: PostgresURL, prefix: str) -> None:
    async def revoke() -> None:
        engine = create_engine(database, pool_size=1)
        try:
            async with engine.begin() as connection:
                await management.revoke_key(connection, prefix)
        finally:
            await engine.dispose()

    asyncio.run(revoke())


def set_serving_state(
    database: PostgresURL, tenant: Tenant, state: str, message: str | None = None
) -> None:
    """What a provider does when the control plane suspends, holds or restores a tenant."""

    async def apply() -> None:
        engine = create_engine(database, pool_size=1)
        try:
            async with engine.begin() as connection:
                await management.set_serving_state(connection, tenant.id, state, message)
        finally:
            await engine.dispose()

    asyncio.run(apply())

"""Read a tenant's stored Yjs documents directly, as the database administrator."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pycrdt import Doc, Text
from sqlalchemy import text

from tests.support.database import execute_pooled
from webhost.data.tenancy.scope import Tenant
from webhost.db.admin import quote_ident
from webhost.db.engine import create_engine
from webhost.db.urls import PostgresURL


@dataclass(frozen=True)
class StoredDocument:
    updates: list[bytes]
    snapshot: bytes | None
    snapshot_seq: int

    @property
    def text(self) -> str:
        """The shared text that snapshot plus updates hold."""
        doc: Doc[Any] = Doc()
        for chunk in [self.snapshot, *self.updates]:
            if chunk is not None:
                doc.apply_update(chunk)
        return str(doc.get("text", type=Text))


def read_stored(database: PostgresURL, tenant: Tenant, document: str) -> StoredDocument:
    schema = quote_ident(tenant.name)

    async def read() -> StoredDocument:
        engine = create_engine(database, pool_size=1)
        try:
            async with engine.connect() as connection:
                updates = await connection.execute(
                    text(
                        f'SELECT "update" FROM {schema}._yjs_updates '
                        "WHERE document = :name ORDER BY seq"
                    ),
                    {"name": document},
                )
                row = (
                    await connection.execute(
                        text(
                            f"SELECT snapshot, snapshot_seq FROM {schema}._yjs_documents "
                            "WHERE name = :name"
                        ),
                        {"name": document},
                    )
                ).one_or_none()
        finally:
            await engine.dispose()
        return StoredDocument(
            updates=[update for (update,) in updates],
            snapshot=row[0] if row else None,
            snapshot_seq=row[1] if row else 0,
        )

    return asyncio.run(read())


def document_names(database: PostgresURL, tenant: Tenant) -> set[str]:
    """Every document name the tenant's schema has stored anything for."""
    schema = quote_ident(tenant.name)

    async def read() -> set[str]:
        engine = create_engine(database, pool_size=1)
        try:
            async with engine.connect() as connection:
                rows = await connection.execute(
                    text(
                        f"SELECT document FROM {schema}._yjs_updates "
                        f"UNION SELECT name FROM {schema}._yjs_documents"
                    )
                )
                return {name for (name,) in rows}
        finally:
            await engine.dispose()

    return asyncio.run(read())


@contextmanager
def refusing_updates(database: PostgresURL, tenant: Tenant) -> Iterator[None]:
    """While inside, every insert into the tenant's update log fails, as in an outage."""
    table = f"{quote_ident(tenant.name)}._yjs_updates"

    asyncio.run(
        execute_pooled(
            database, f"ALTER TABLE {table} ADD CONSTRAINT refuse_all CHECK (false) NOT VALID"
        )
    )
    try:
        yield
    finally:
        asyncio.run(execute_pooled(database, f"ALTER TABLE {table} DROP CONSTRAINT refuse_all"))


@contextmanager
def slowing_updates(database: PostgresURL, tenant: Tenant, seconds: float) -> Iterator[None]:
    """While inside, every insert into the tenant's update log takes this long."""
    schema = quote_ident(tenant.name)

    asyncio.run(
        execute_pooled(
            database,
            f"CREATE FUNCTION {schema}.slow_insert() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN PERFORM pg_sleep({float(seconds)}); RETURN NEW; END $$",
            f"CREATE TRIGGER slow_insert BEFORE INSERT ON {schema}._yjs_updates "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {schema}.slow_insert()",
        )
    )
    try:
        yield
    finally:
        asyncio.run(
            execute_pooled(
                database,
                f"DROP TRIGGER slow_insert ON {schema}._yjs_updates",
                f"DROP FUNCTION {schema}.slow_insert()",
            )
        )

"""Server-level statements (databases, roles) that cannot run inside a transaction."""

from __future__ import annotations

import re

import asyncpg

from webhost.db.urls import PostgresURL

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def quote_ident(name: str) -> str:
    """Only names we generate reach SQL; anything else is a bug, so refuse it loudly."""
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"refusing unsafe SQL identifier {name!r}")
    return f'"{name}"'


async def connect(url: PostgresURL) -> asyncpg.Connection:
    params = url.url.translate_connect_args(username="user")
    host = url.url.query.get("host")
    if host:
        params["host"] = host if isinstance(host, str) else host[0]
    connection: asyncpg.Connection = await asyncpg.connect(**params)
    return connection


async def database_exists(server: PostgresURL, name: str) -> bool:
    connection = await connect(server.with_database("postgres"))
    try:
        found = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
    finally:
        await connection.close()
    return found is not None


async def ensure_database(server: PostgresURL, name: str, *, owner: str | None = None) -> bool:
    """Create the database unless it exists; True when this call created it."""
    connection = await connect(server.with_database("postgres"))
    try:
        if await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return False
        statement = f"CREATE DATABASE {quote_ident(name)}"
        if owner:
            statement += f" OWNER {quote_ident(owner)}"
        try:
            await connection.execute(statement)
        except asyncpg.DuplicateDatabaseError:
            return False
        return True
    finally:
        await connection.close()


async def drop_database(server: PostgresURL, name: str) -> bool:
    connection = await connect(server.with_database("postgres"))
    try:
        if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return False
        await connection.execute(f"DROP DATABASE {quote_ident(name)} WITH (FORCE)")
        return True
    finally:
        await connection.close()

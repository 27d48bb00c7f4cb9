"""PostgreSQL's constraint and data errors, told to the client in the collection's terms."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg
from sqlalchemy.exc import DBAPIError

from webhost.data.collections import limits
from webhost.data.collections.tables import StoredCollection
from webhost.errors import Conflict, IdsExhausted, InvalidInput, NotFound


@contextmanager
def translate_errors(collection: StoredCollection, *, key: object = None) -> Iterator[None]:
    """Turn constraint and data errors from PostgreSQL into clear client errors."""
    try:
        yield
    except (DBAPIError, asyncpg.PostgresError) as exc:
        # through SQLAlchemy, the driver's error is the cause of the one it raises
        if isinstance(exc, DBAPIError):
            sqlstate = getattr(exc.orig, "sqlstate", None) or ""
            cause = exc.orig.__cause__ if exc.orig is not None else None
        else:
            sqlstate, cause = exc.sqlstate or "", exc
        if sqlstate == "2200H":  # sequence_generator_limit_exceeded
            raise IdsExhausted(
                f"collection {collection.name!r} has handed out its last auto-increment id; "
                f"add records with ids of your own (at most {limits.MAX_EXPLICIT_ID}) "
                "or move them to a new collection"
            ) from exc
        if sqlstate == "42P01":  # undefined_table: dropped by another plane a moment ago
            raise NotFound(f"collection {collection.name!r} does not exist") from exc
        if sqlstate == "23505":
            constraint = getattr(cause, "constraint_name", "") or ""
            raise Conflict(_duplicate_message(collection, constraint, key)) from exc
        if sqlstate.startswith("54"):  # program_limit_exceeded and kin
            detail = getattr(cause, "message", None) or "a database limit"
            raise InvalidInput(_limit_message(collection, detail)) from exc
        if sqlstate.startswith("22"):
            detail = getattr(cause, "message", None) or "invalid value"
            raise InvalidInput(f"record rejected by the database: {detail}") from exc
        raise


def _limit_message(collection: StoredCollection, detail: str) -> str:
    """PostgreSQL's own size limit on index entries, named in the collection's terms."""
    match = re.search(r'index row .* for index "([^"]+)"', detail)
    if match is None:
        return f"record rejected by the database: {detail}"
    sources = {name: source for source, name in collection.index_names.items()}
    index = sources.get(match.group(1), collection.schema.primary_key)
    return (
        f"a value is too large for index {index!r}: PostgreSQL index entries hold at most "
        f"{limits.POSTGRES_INDEX_ENTRY_BYTES} bytes; keep indexed values and ids within "
        f"{limits.MAX_INDEXED_BYTES} bytes"
    )


def _duplicate_message(collection: StoredCollection, constraint: str, key: object) -> str:
    for source, index_name in collection.index_names.items():
        if index_name == constraint:
            return f"another record already has this value for unique index {source!r}"
    if key is not None:
        return f"a record with {collection.schema.primary_key} {key!r} already exists"
    return "a unique constraint was violated"

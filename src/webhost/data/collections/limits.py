"""Limits a record must meet before its SQL runs: the size of ids and of indexed values."""

from __future__ import annotations

import json
from typing import Any

from webhost.data.collections.dexie_schema import CollectionSchema, IndexSpec

# Dexie clients are JavaScript: every id must stay a safe integer (2^53 - 1)
MAX_AUTO_ID = 2**53 - 1
# explicit ids stop at 2^52, so the identity sequence always keeps 2^52 ids after them
MAX_EXPLICIT_ID = 2**52
# the largest btree entry PostgreSQL takes (version 4 btrees, 8 kB pages)
POSTGRES_INDEX_ENTRY_BYTES = 2704
# leaves room under POSTGRES_INDEX_ENTRY_BYTES for each column's header and alignment
MAX_INDEXED_BYTES = 2000


def new_key_problem(schema: CollectionSchema, key: float | str) -> str | None:
    """Why a new record cannot take ``key`` (an existing one may keep it), or None."""
    if isinstance(key, str):
        size = len(key.encode())
        if size > MAX_INDEXED_BYTES:
            return (
                f"{schema.primary_key} is {size} bytes long; ids may be at most "
                f"{MAX_INDEXED_BYTES} bytes (UTF-8)"
            )
    elif schema.auto_increment and key > MAX_EXPLICIT_ID:
        return (
            f"{schema.primary_key} {key} is too large: ids a client chooses in an "
            f"auto-increment collection may be at most {MAX_EXPLICIT_ID} (2^52); "
            "larger ones are left to the server"
        )
    return None


def indexed_values_problem(
    schema: CollectionSchema, data: dict[str, Any], *, before: dict[str, Any] | None = None
) -> str | None:
    """Why ``data`` has a value too large for one of its btree indexes, or None.

    Values the record already held (``before``) pass: PostgreSQL took them once.
    """
    for index in schema.indexes:
        if index.multi_entry:
            continue  # GIN (jsonb_path_ops) indexes hashes of the values
        values = _indexed(index, data)
        size = sum(stored_size(value) for value in values)
        if size > MAX_INDEXED_BYTES and (before is None or _indexed(index, before) != values):
            fields = "field" if not index.compound else "fields, counted together,"
            return (
                f"the value for index {index.source!r} is {size} bytes; indexed {fields} "
                f"may hold at most {MAX_INDEXED_BYTES} bytes (UTF-8)"
            )
    return None


def stored_size(value: Any) -> int:
    """Bytes of a JSON value as stored: UTF-8 text for a string, compact JSON otherwise."""
    if value is None:
        return 0
    if isinstance(value, str):
        return len(value.encode())
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


def _indexed(index: IndexSpec, data: dict[str, Any]) -> list[Any]:
    return [_value_at(data, key_path) for key_path in index.key_paths]


def _value_at(data: dict[str, Any], key_path: str) -> Any:
    """What ``data #> '{a,b}'`` finds: None where the path leaves the objects."""
    value: Any = data
    for part in key_path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value

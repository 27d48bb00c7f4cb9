"""Limits a record's key must meet before its SQL runs."""

from __future__ import annotations

from webhost.data.collections.dexie_schema import CollectionSchema

# Dexie clients are JavaScript: every id must stay a safe integer (2^53 - 1)
MAX_AUTO_ID = 2**53 - 1
# explicit ids stop at 2^52, so the identity sequence always keeps 2^52 ids after them
MAX_EXPLICIT_ID = 2**52


def new_key_problem(schema: CollectionSchema, key: int | str) -> str | None:
    """Why a new record cannot take ``key`` (an existing one may keep it), or None."""
    if schema.auto_increment and isinstance(key, int) and key > MAX_EXPLICIT_ID:
        return (
            f"{schema.primary_key} {key} is too large: ids a client chooses in an "
            f"auto-increment collection may be at most {MAX_EXPLICIT_ID} (2^52); "
            "larger ones are left to the server"
        )
    return None

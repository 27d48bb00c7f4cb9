"""Pulls: the changes of each scope since its cursor, in pages of bounded size.

Records travel as the JSON text PostgreSQL builds; an answer is assembled from those texts
without decoding them, so a page costs the server little beyond the query.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from webhost.data.collections.catalogue_service import Catalogue
from webhost.data.sync import repository
from webhost.data.sync.cursors import Cursor
from webhost.data.sync.repository import ChangeRow, Position
from webhost.data.sync.scopes import Scope
from webhost.data.sync.tables import synced_table
from webhost.data.tenancy.scope import Tenant
from webhost.errors import WebHostError

DEFAULT_LIMIT = 1000
MAX_LIMIT = 5000
# records gathered for one answer, over all its collections, before the page is cut
BYTE_BUDGET = 4 * 1024 * 1024


@dataclass(frozen=True)
class ScopeRequest:
    """One collection a pull asks for: its scope, or why the scope could not be read."""

    collection: str
    scope: Scope | WebHostError
    cursor: str | None


@dataclass
class Page:
    """What one collection's part of an answer holds."""

    changes: str  # a JSON array
    count: int
    cursor: str | None
    more: bool
    reset: bool

    def to_json(self) -> str:
        return (
            f'{{"changes":{self.changes},"cursor":{json.dumps(self.cursor)},'
            f'"more":{_bool(self.more)},"reset":{_bool(self.reset)}}}'
        )


def error_json(error: WebHostError) -> str:
    return json.dumps(error.to_body())


def start_cursor(cursor_text: str | None, scope: Scope, position: Position) -> tuple[Cursor, bool]:
    """Where a pull of ``scope`` starts, and whether it starts over (reset)."""
    fresh = Cursor(since=0, base=position.revision, fingerprint=scope.fingerprint)
    if cursor_text is None:
        return fresh, True
    cursor = Cursor.decode(cursor_text)
    if (
        cursor.fingerprint != scope.fingerprint
        or cursor.since > position.revision
        or (cursor.since > 0 and cursor.since < position.horizon_of(scope.collection))
    ):
        return fresh, True
    return cursor, False


async def read_page(
    connection: AsyncConnection,
    catalogue: Catalogue,
    tenant: Tenant,
    scope: Scope,
    cursor: Cursor,
    position: Position,
    *,
    limit: int,
    byte_budget: int,
) -> tuple[Page, int]:
    """One page of ``scope`` from ``cursor``; the bytes of records it holds come back too."""
    table = await synced_table(connection, catalogue, tenant, scope.collection)
    rows, more = await repository.change_page(
        connection,
        table,
        scope.conditions,
        since=cursor.since,
        upto=position.revision,
        base=cursor.base,
        limit=limit,
        byte_budget=byte_budget,
    )
    since = rows[-1].revision if more else position.revision
    after = Cursor(since, cursor.base, cursor.fingerprint)
    size = sum(len(row.record) for row in rows if row.record is not None)
    page = Page(_changes_json(rows), len(rows), after.encode(), more, reset=False)
    return page, size


async def pull(
    connection: AsyncConnection,
    catalogue: Catalogue,
    tenant: Tenant,
    requests: list[ScopeRequest],
    *,
    limit: int = DEFAULT_LIMIT,
    byte_budget: int = BYTE_BUDGET,
) -> tuple[dict[str, str], Position]:
    """Each collection's part of the answer, as JSON text, and the position it was read at."""
    names = [request.collection for request in requests if isinstance(request.scope, Scope)]
    position = await repository.read_position(connection, tenant, names)
    parts: dict[str, str] = {}
    for request in sorted(requests, key=lambda request: request.collection):
        if isinstance(request.scope, WebHostError):
            parts[request.collection] = error_json(request.scope)
            continue
        if limit <= 0 or byte_budget <= 0:
            # this answer is full: the collection waits for the next pull, cursor unchanged
            parts[request.collection] = Page("[]", 0, request.cursor, True, False).to_json()
            continue
        try:
            cursor, reset = start_cursor(request.cursor, request.scope, position)
            page, size = await read_page(
                connection,
                catalogue,
                tenant,
                request.scope,
                cursor,
                position,
                limit=limit,
                byte_budget=byte_budget,
            )
        except WebHostError as error:
            parts[request.collection] = error_json(error)
            continue
        page.reset = reset
        parts[request.collection] = page.to_json()
        limit -= page.count
        byte_budget -= size
    return parts, position


def _changes_json(rows: list[ChangeRow]) -> str:
    return (
        "["
        + ",".join(
            f'{{"op":"delete","key":{row.key},"revision":{row.revision}}}'
            if row.record is None
            else f'{{"op":"put","key":{row.key},"revision":{row.revision},"record":{row.record}}}'
            for row in rows
        )
        + "]"
    )


def _bool(value: bool) -> str:
    return "true" if value else "false"

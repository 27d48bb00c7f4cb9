"""Pulling every scope: a page at a time, each page and its cursors in one local transaction,
again at once while the server says there is more."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any

import httpx

from webhost.client.replica import remote_changes
from webhost.client.replica.database import ReplicaDatabase
from webhost.client.replica.state import ReplicaState
from webhost.client.sync.exchange import post


@dataclass
class PullReport:
    pages: int = 0
    resets: int = 0
    errors: dict[str, str] = field(default_factory=dict)


async def pull_scopes(http: httpx.AsyncClient, replica: ReplicaDatabase, limit: int) -> PullReport:
    report = PullReport()
    wanted: set[str] | None = None  # None: every scope
    while wanted is None or wanted:
        request, filters = await replica.read(partial(_request, wanted=wanted))
        if not request:
            return report
        answer = await post(http, "/v1/sync/pull", {"collections": request, "limit": limit})
        page = await replica.write(
            partial(remote_changes.apply_pull_page, filters=filters, answer=answer)
        )
        report.pages += 1
        report.resets += page.resets
        report.errors.update(page.errors)
        wanted = page.more
    return report


def _request(
    state: ReplicaState, wanted: set[str] | None
) -> tuple[dict[str, dict[str, Any]], dict[str, str | None]]:
    request: dict[str, dict[str, Any]] = {}
    filters: dict[str, str | None] = {}
    for name, scope in state.scopes.items():
        if wanted is not None and name not in wanted:
            continue
        entry: dict[str, Any] = {"cursor": scope.cursor}
        if scope.filter is not None:
            entry["filter"] = scope.filter
        request[name] = entry
        filters[name] = scope.filter
    return request, filters

"""Work a transaction hands on to be done once it has committed (never if it rolls back).

Services register it on their session; whoever owns the transaction (a request, a job) runs
it after the commit. Each action is independent: one failing is logged and the rest still run,
because what they do is also recorded durably and retried elsewhere.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

log = structlog.get_logger(__name__)

AfterCommit = Callable[[], Awaitable[Any]]

_KEY = "webhost.after_commit"


def after_commit(session: AsyncSession, action: AfterCommit, *, name: str) -> None:
    """Run ``action`` once the session's transaction commits; ``name`` dedupes and logs it."""
    actions: dict[str, AfterCommit] = session.info.setdefault(_KEY, {})
    actions.setdefault(name, action)


def discard(session: AsyncSession) -> None:
    """The transaction rolled back: what it handed on must not happen."""
    session.info.pop(_KEY, None)


async def run_after_commit(session: AsyncSession) -> None:
    actions: dict[str, AfterCommit] = session.info.pop(_KEY, {})
    for name, action in actions.items():
        try:
            await action()
        except Exception as exc:  # recorded durably by the caller: a later sweep retries it
            log.warning("work after commit failed", action=name, error=str(exc))

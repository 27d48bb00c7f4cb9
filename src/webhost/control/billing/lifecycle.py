"""The billing sweep: grace periods and paid periods that ended suspend their deployments, and
planes that were not told their deployment's state are told again."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from webhost.control.billing import repository, suspension
from webhost.control.billing.suspension import PlaneStates
from webhost.db.after_commit import run_after_commit


async def sweep(sessions: async_sessionmaker[AsyncSession], planes: PlaneStates) -> int:
    """Returns how many subscriptions were suspended."""
    async with sessions.begin() as session:
        due = await repository.due_for_suspension(session)
        for subscription in due:
            await suspension.suspend(session, planes, subscription)
    await run_after_commit(session)
    await planes.reconcile()
    return len(due)

"""Group commit of pushes (``group_commit.py``): the pushes of one tenant that arrive while its
previous group is being written go together in the next transaction.

A push costs about a dozen round trips to PostgreSQL (claims, locks, writes, revisions,
results, commit), and a tenant's writers take turns on its revision counter anyway. A group
that cannot reach the database fails every push in it, each of which its client sends again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import asyncpg
import structlog
from sqlalchemy.exc import SQLAlchemyError

from webhost.data.group_commit import TenantGroupCommitter
from webhost.data.sync.push import Answer, Submission, push
from webhost.data.tenancy.scope import Tenant
from webhost.errors import ServiceBusy

if TYPE_CHECKING:
    from webhost.data.plane import DataPlane

log = structlog.get_logger(__name__)

# a group stops taking pushes past this many mutations, so its statements stay bounded
MAX_GROUP_MUTATIONS = 2000


class PushCommitter:
    def __init__(self, plane: DataPlane) -> None:
        self._plane = plane
        self._groups: TenantGroupCommitter[Submission, Answer] = TenantGroupCommitter(
            self._commit, size=_mutations, max_group_size=MAX_GROUP_MUTATIONS, name="sync.pushes"
        )

    async def push(self, tenant: Tenant, submission: Submission) -> Answer:
        """Apply one push; its answer once the group it went in has committed."""
        return await self._groups.submit(tenant, submission)

    async def _commit(self, tenant: Tenant, group: Sequence[Submission]) -> list[Answer]:
        plane = self._plane
        try:
            async with plane.transaction(tenant, key_lookups=True) as connection:
                return await push(connection, plane.catalogue, plane.writer, tenant, group)
        except (OSError, SQLAlchemyError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("sync.push_storage_failed", tenant=tenant.name, error=str(exc)[:200])
            raise ServiceBusy(
                "storage unavailable: nothing of this push was applied; send it again",
                retry_after_seconds=1,
            ) from exc


def _mutations(submission: Submission) -> int:
    return sum(len(transaction.mutations) for transaction in submission.transactions)

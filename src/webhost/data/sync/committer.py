"""Group commit of pushes: the pushes of one tenant that arrive while its previous group is
being written go together in the next transaction.

A push costs about a dozen round trips to PostgreSQL (claims, locks, writes, revisions,
results, commit), and a tenant's writers take turns on its revision counter anyway. Written
together, a group of pushes costs those round trips once. A push that arrives when nothing is
in flight goes at once, alone, so grouping adds no latency when the tenant is quiet.

A group that fails as a whole (the database went away) fails every push in it, each of which
its client sends again. A group that fails for any other reason is written again one push at a
time, so a push that breaks the group fails alone.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import asyncpg
import structlog
from sqlalchemy.exc import SQLAlchemyError

from webhost.data.sync.push import Answer, Submission, push
from webhost.data.tenancy.scope import Tenant
from webhost.errors import ServiceBusy, WebHostError

if TYPE_CHECKING:
    from webhost.data.plane import DataPlane

log = structlog.get_logger(__name__)

# a group stops taking pushes past this many mutations, so its statements stay bounded
MAX_GROUP_MUTATIONS = 2000

_Waiting = tuple[Submission, "asyncio.Future[Answer]"]


@dataclass
class _TenantPushes:
    waiting: list[_Waiting] = field(default_factory=list)
    writing: asyncio.Task[None] | None = None


class PushCommitter:
    def __init__(self, plane: DataPlane) -> None:
        self._plane = plane
        self._tenants: dict[str, _TenantPushes] = {}

    async def push(self, tenant: Tenant, submission: Submission) -> Answer:
        """Apply one push; its answer once the group it went in has committed."""
        pushes = self._tenants.setdefault(tenant.name, _TenantPushes())
        answered: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        pushes.waiting.append((submission, answered))
        if pushes.writing is None or pushes.writing.done():
            pushes.writing = asyncio.create_task(self._write(tenant, pushes), name="sync-pushes")
        return await answered

    async def _write(self, tenant: Tenant, pushes: _TenantPushes) -> None:
        while pushes.waiting:
            group = _take_group(pushes.waiting)
            try:
                await self._commit(tenant, group)
            except WebHostError as error:
                _fail(group, error)
            except Exception:
                if len(group) == 1:
                    log.exception("sync.push_failed", tenant=tenant.name)
                    _fail(group, WebHostError("internal error while applying the push"))
                    continue
                for each in group:  # find the push that breaks the group: it fails alone
                    try:
                        await self._commit(tenant, [each])
                    except WebHostError as error:
                        _fail([each], error)
                    except Exception:
                        log.exception("sync.push_failed", tenant=tenant.name)
                        _fail([each], WebHostError("internal error while applying the push"))
        if self._tenants.get(tenant.name) is pushes and not pushes.waiting:
            del self._tenants[tenant.name]

    async def _commit(self, tenant: Tenant, group: list[_Waiting]) -> None:
        plane = self._plane
        try:
            async with plane.transaction(tenant, key_lookups=True) as connection:
                answers = await push(
                    connection,
                    plane.catalogue,
                    plane.writer,
                    tenant,
                    [submission for submission, _answered in group],
                )
        except (OSError, SQLAlchemyError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("sync.push_storage_failed", tenant=tenant.name, error=str(exc)[:200])
            raise ServiceBusy(
                "storage unavailable: nothing of this push was applied; send it again",
                retry_after_seconds=1,
            ) from exc
        for (_submission, answered), answer in zip(group, answers, strict=True):
            if not answered.done():  # its client may have gone; it sends the push again
                answered.set_result(answer)


def _take_group(waiting: list[_Waiting]) -> list[_Waiting]:
    taken = 0
    mutations = 0
    for submission, _answered in waiting:
        size = sum(len(transaction.mutations) for transaction in submission.transactions)
        if taken and mutations + size > MAX_GROUP_MUTATIONS:
            break
        taken += 1
        mutations += size
    group = waiting[:taken]
    del waiting[:taken]
    return group


def _fail(group: list[_Waiting], error: WebHostError) -> None:
    for _submission, answered in group:
        if not answered.done():
            answered.set_exception(error)

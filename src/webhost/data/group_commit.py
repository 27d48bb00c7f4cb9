"""Group commit: the submissions of one tenant that arrive while its previous group is being
written go together in the next transaction.

A write's round trips to PostgreSQL and its commit cost about the same for one submission as
for many, and a tenant's writers take turns on the same rows anyway. Written together, a group
costs them once. A submission that arrives when nothing is in flight goes at once, alone, so
grouping adds no latency while the tenant is quiet.

A submission of ``alone_from`` or more goes at once in a transaction of its own, beside any
group in flight: it pays for its transaction by itself, and queueing large writes behind each
other would only leave the database's other cores idle.

The write function answers every submission of a group, in order. A group that fails with a
``WebHostError`` (the write decided so: storage unavailable, say) fails every submission in
it. A group that fails for any other reason is written again one submission at a time, so a
submission that breaks the group fails alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import structlog

from webhost.data.tenancy.scope import Tenant
from webhost.errors import WebHostError

log = structlog.get_logger(__name__)

S = TypeVar("S")  # a submission
A = TypeVar("A")  # its answer

# writes a tenant's group in one transaction: one answer per submission, in order
GroupWrite = Callable[[Tenant, Sequence[S]], Awaitable[Sequence[A]]]


@dataclass
class _Queue(Generic[S, A]):
    waiting: list[tuple[S, asyncio.Future[A]]] = field(default_factory=list)
    writing: asyncio.Task[None] | None = None


class TenantGroupCommitter(Generic[S, A]):
    """``size`` weighs a submission; a group takes submissions in the order they came while
    their sizes add up to at most ``max_group_size`` (always at least one)."""

    def __init__(
        self,
        write: GroupWrite[S, A],
        *,
        size: Callable[[S], int],
        max_group_size: int,
        name: str,
        alone_from: int | None = None,
    ) -> None:
        self._write_group = write
        self._size = size
        self._max_group_size = max_group_size
        self._alone_from = alone_from
        self._name = name
        self._queues: dict[str, _Queue[S, A]] = {}

    async def submit(self, tenant: Tenant, submission: S) -> A:
        """Write one submission; its answer once the group it went in has committed."""
        if self._alone_from is not None and self._size(submission) >= self._alone_from:
            return await self._alone(tenant, submission)
        queue = self._queues.setdefault(tenant.name, _Queue())
        answered: asyncio.Future[A] = asyncio.get_running_loop().create_future()
        queue.waiting.append((submission, answered))
        if queue.writing is None or queue.writing.done():
            queue.writing = asyncio.create_task(self._drain(tenant, queue), name=self._name)
        return await answered

    async def _drain(self, tenant: Tenant, queue: _Queue[S, A]) -> None:
        while queue.waiting:
            group = self._take_group(queue.waiting)
            try:
                await self._commit(tenant, group)
            except WebHostError as error:
                _fail(group, error)
            except Exception:
                if len(group) == 1:
                    log.exception(f"{self._name}.failed", tenant=tenant.name)
                    _fail(group, WebHostError("internal error while writing"))
                    continue
                for submission, answered in group:  # the one that breaks the group fails alone
                    try:
                        answer = await self._alone(tenant, submission)
                    except WebHostError as error:
                        _fail([(submission, answered)], error)
                    else:
                        if not answered.done():
                            answered.set_result(answer)
        if self._queues.get(tenant.name) is queue and not queue.waiting:
            del self._queues[tenant.name]

    async def _alone(self, tenant: Tenant, submission: S) -> A:
        """One submission in a transaction of its own; raises WebHostError only."""
        try:
            (answer,) = await self._write_group(tenant, [submission])
        except WebHostError:
            raise
        except Exception:
            log.exception(f"{self._name}.failed", tenant=tenant.name)
            raise WebHostError("internal error while writing") from None
        return answer

    async def _commit(self, tenant: Tenant, group: list[tuple[S, asyncio.Future[A]]]) -> None:
        answers = await self._write_group(tenant, [submission for submission, _ in group])
        for (_submission, answered), answer in zip(group, answers, strict=True):
            if not answered.done():  # its caller may have gone; what it sent is written
                answered.set_result(answer)

    def _take_group(
        self, waiting: list[tuple[S, asyncio.Future[A]]]
    ) -> list[tuple[S, asyncio.Future[A]]]:
        taken = 0
        total = 0
        for submission, _answered in waiting:
            size = self._size(submission)
            if taken and total + size > self._max_group_size:
                break
            taken += 1
            total += size
        group = waiting[:taken]
        del waiting[:taken]
        return group


def _fail(group: Sequence[tuple[object, asyncio.Future[A]]], error: WebHostError) -> None:
    for _submission, answered in group:
        if not answered.done():
            answered.set_exception(error)

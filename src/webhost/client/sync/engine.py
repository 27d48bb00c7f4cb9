"""The sync loop: push when the outbox grows, pull when the server has news, retry with
back-off while the server is out of reach. One cycle runs at a time, pushes before pulls, so a
pull always sees the client's acknowledged writes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import httpx

from webhost.client.backoff import Backoff
from webhost.client.errors import ApiError
from webhost.client.replica import outbox
from webhost.client.replica.database import ReplicaDatabase
from webhost.client.replica.remote_changes import BadAnswer
from webhost.client.sync.exchange import RetryLater, server_position
from webhost.client.sync.notices import NoticeListener
from webhost.client.sync.pull import pull_scopes
from webhost.client.sync.push import push_outbox
from webhost.client.sync.status import Rejection, ServerLimits, SyncStatus

logger = logging.getLogger(__name__)

RejectionHandler = Callable[[Rejection], None]


class SyncEngine:
    def __init__(
        self,
        http: httpx.AsyncClient,
        replica: ReplicaDatabase,
        client_id: str,
        socket_url: str,
        api_key: str,
        *,
        scope_names: Callable[[], set[str]],
        pull_limit: int = 1000,
        on_rejection: RejectionHandler | None = None,
    ) -> None:
        self.status = SyncStatus()
        self._http = http
        self._replica = replica
        self._client_id = client_id
        self._scope_names = scope_names
        self._pull_limit = pull_limit
        self._on_rejection = on_rejection
        self._limits: ServerLimits | None = None
        self._seen_clock: object = None
        self._push_wanted = True
        self._pull_wanted = True
        self._working = False
        self._wake = asyncio.Event()
        self._retry_now = asyncio.Event()  # cuts a back-off short: the server is back
        self._changed = asyncio.Condition()
        self._listener = NoticeListener(
            f"{socket_url}/v1/sync",
            api_key,
            on_hello=self._hello,
            on_revision=self._revision,
            on_live=self._live,
        )
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._wake.set()
        self._tasks = [
            asyncio.create_task(self._run(), name="webhost-sync"),
            asyncio.create_task(self._listener.run(), name="webhost-sync-notices"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    def request_push(self) -> None:
        self._push_wanted = True
        self._wake.set()

    def request_pull(self) -> None:
        self._pull_wanted = True
        self._wake.set()

    @property
    def idle(self) -> bool:
        """Nothing to push, every scope pulled as far as the last notice, no failure pending."""
        return not (
            self._push_wanted
            or self._pull_wanted
            or self._working
            or self.status.pending
            or self.status.last_error
        )

    async def synced(self) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self.idle)

    async def sync_now(self) -> None:
        """Push and pull now (a back-off in progress is cut short), and wait until both are
        done."""
        self.request_push()
        self.request_pull()
        self._retry_now.set()
        await self.synced()

    async def _run(self) -> None:
        backoff = Backoff()
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._push_wanted or self._pull_wanted:
                await self._set_working(True)
                try:
                    await self._cycle()
                except (RetryLater, ApiError, BadAnswer) as exc:
                    self.status.last_error = str(exc)
                    logger.info("sync postponed: %s", exc)
                    await self._set_working(False)
                    await self._back_off(backoff.delay())
                    continue
                backoff.reset()
                self.status.last_error = None
                await self._set_working(False)

    async def _back_off(self, seconds: float) -> None:
        self._retry_now.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._retry_now.wait(), seconds)

    async def _cycle(self) -> None:
        if self._limits is None:
            self._hello(await server_position(self._http))
        if self._seen_clock is not None:
            clock, self._seen_clock = self._seen_clock, None
            await self._replica.write(lambda state: state.clock.observe(clock))
        if self._push_wanted:
            self._push_wanted = False
            try:
                await self._push()
            except BaseException:
                self._push_wanted = True
                raise
        if self._pull_wanted:
            self._pull_wanted = False
            try:
                report = await pull_scopes(self._http, self._replica, self._pull_size())
            except BaseException:
                self._pull_wanted = True
                raise
            self.status.pulled_pages += report.pages
            self.status.resets += report.resets
            self.status.scope_errors = report.errors

    async def _push(self) -> None:
        assert self._limits is not None
        try:
            report = await push_outbox(self._http, self._replica, self._client_id, self._limits)
        finally:
            self.status.pending = await self._replica.read(
                lambda state: outbox.count(state.connection)
            )
        self.status.pushed_transactions += report.transactions
        self.status.duplicate_transactions += report.duplicates
        for refused in report.refused:
            mutation = refused.mutation
            rejection = Rejection(
                refused.txid,
                mutation.collection,
                mutation.key,
                mutation.op,
                refused.code,
                refused.message,
                refused.record,
            )
            self.status.rejections.append(rejection)
            if self._on_rejection is not None:
                try:
                    self._on_rejection(rejection)
                except Exception:
                    logger.exception("the rejection handler failed")
        if report.applied:
            self._pull_wanted = True  # the server's merge of these writes comes with a pull

    def _pull_size(self) -> int:
        limits = self._limits or ServerLimits()
        return max(1, min(self._pull_limit, limits.max_pull_changes))

    async def _set_working(self, working: bool) -> None:
        async with self._changed:
            self._working = working
            self._changed.notify_all()

    def _hello(self, message: dict[str, object]) -> None:
        self._limits = ServerLimits.from_json(message)
        self._seen_clock = message.get("clock")

    def _revision(self, collections: list[str]) -> None:
        if set(collections) & self._scope_names():
            self.request_pull()

    def _live(self, live: bool) -> None:
        was_live, self.status.live = self.status.live, live
        if live and not was_live:
            # the server is back, and notices may have been missed while the socket was down
            self.request_push()
            self.request_pull()
            self._retry_now.set()

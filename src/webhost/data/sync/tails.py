"""The live end of each scope: one query per burst of commits, sent to every caught-up socket.

A tail follows one scope (collection and filter) of one tenant from revision ``since``. When a
commit touches its collection, it reads the changes after ``since`` once, encodes each page
once and writes the frame to every session attached to it (those whose cursor equals
``since``). A session that is behind catches up on its own (``live.py``) until its cursor
reaches the tail's, then attaches. So a hundred clients of one scope cost one query and one
encoding per burst, not a hundred pulls.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import asyncpg
import structlog
from sqlalchemy.exc import SQLAlchemyError

from webhost.data.sync import repository
from webhost.data.sync.cursors import Cursor
from webhost.data.sync.feed import Committed
from webhost.data.sync.pull import BYTE_BUDGET, MAX_LIMIT, Page, read_page
from webhost.data.sync.scopes import Scope
from webhost.data.tenancy.disconnects import Disconnect
from webhost.data.tenancy.scope import Tenant
from webhost.errors import WebHostError
from webhost.http.websocket import CLOSE_GOING_AWAY, text_frame

if TYPE_CHECKING:
    from webhost.data.plane import DataPlane

log = structlog.get_logger(__name__)

RETRY_SECONDS = 1.0
# a tail reads again at most this often: under a stream of commits each read (and each frame to
# every socket) carries several of them, for a few milliseconds of latency
MIN_READ_INTERVAL_SECONDS = 0.010


class Subscriber(Protocol):
    key_prefix: str

    def deliver(self, tail: ScopeTail, frame: bytes, cursor: str) -> None: ...

    def lose(self, tail: ScopeTail, error: WebHostError | None) -> None: ...

    def close(self, code: int, reason: str) -> None: ...


def changes_message(collection: str, page: Page) -> str:
    return f'{{"type":"changes","collection":{json.dumps(collection)},' + page.to_json()[1:]


def error_message(collection: str, error: WebHostError) -> str:
    return json.dumps({"type": "changes", "collection": collection, **error.to_body()})


@dataclass(eq=False)
class ScopeTail:
    hub: LiveHub
    tenant: Tenant
    scope: Scope
    since: int | None = None  # None until the tail has read where the tenant stands
    attached: dict[Subscriber, None] = field(default_factory=dict)
    members: int = 0  # subscriptions that use this tail, attached or catching up
    _dirty: bool = False
    _last_read: float = 0.0
    _task: asyncio.Task[None] | None = None
    _advanced: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def key(self) -> tuple[str, str]:
        return (self.tenant.name, self.scope.fingerprint)

    def wake(self) -> None:
        self._dirty = True
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._follow(), name="sync-tail")

    async def advanced(self) -> None:
        """Wait until the tail has moved (or read its starting point)."""
        self.wake()
        await self._advanced.wait()

    def attach(self, subscriber: Subscriber) -> None:
        self.attached[subscriber] = None

    def detach(self, subscriber: Subscriber) -> None:
        self.attached.pop(subscriber, None)

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _follow(self) -> None:
        loop = asyncio.get_running_loop()
        while self._dirty:
            wait = self._last_read + MIN_READ_INTERVAL_SECONDS - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            self._last_read = loop.time()
            self._dirty = False
            try:
                await self._read()
            except WebHostError as error:  # the collection went away, or cannot sync now
                for subscriber in list(self.attached):
                    subscriber.lose(self, error)
                self.attached.clear()
            except (OSError, SQLAlchemyError, asyncpg.PostgresError) as exc:
                log.warning("sync.tail_failed", tenant=self.tenant.name, error=str(exc)[:200])
                self._dirty = True
                await asyncio.sleep(RETRY_SECONDS)
            advanced, self._advanced = self._advanced, asyncio.Event()
            advanced.set()

    async def _read(self) -> None:
        plane = self.hub.plane
        collection = self.scope.collection
        async with plane.transaction(self.tenant, key_lookups=True) as connection:
            position = await repository.read_position(connection, self.tenant, [collection])
            if self.since is None or position.horizon_of(collection) > self.since:
                # first read, or the change log moved past us: attached sessions start over
                for subscriber in list(self.attached):
                    subscriber.lose(self, None)
                self.attached.clear()
                self.since = position.revision
                return
            cursor = Cursor(self.since, 0, self.scope.fingerprint)
            while self.attached:
                page, _size = await read_page(
                    connection,
                    plane.catalogue,
                    self.tenant,
                    self.scope,
                    cursor,
                    position,
                    limit=MAX_LIMIT,
                    byte_budget=BYTE_BUDGET,
                )
                assert page.cursor is not None
                if page.count:
                    frame = text_frame(changes_message(collection, page))
                    for subscriber in list(self.attached):
                        subscriber.deliver(self, frame, page.cursor)
                cursor = Cursor.decode(page.cursor)
                if not page.more:
                    break
            self.since = position.revision


class LiveHub:
    """Every live sync socket of a plane, and the tails they share."""

    def __init__(self, plane: DataPlane, poll_seconds: float) -> None:
        self.plane = plane
        self._tails: dict[tuple[str, str], ScopeTail] = {}
        self._by_tenant: dict[str, set[ScopeTail]] = {}
        self._sessions: dict[Subscriber, None] = {}
        self._poll_seconds = poll_seconds
        self._poller: asyncio.Task[None] | None = None

    def tail(self, tenant: Tenant, scope: Scope) -> ScopeTail:
        """The tail of ``scope``, made on first use; release it with ``release``."""
        key = (tenant.name, scope.fingerprint)
        tail = self._tails.get(key)
        if tail is None:
            tail = self._tails[key] = ScopeTail(self, tenant, scope)
            tenants_tails = self._by_tenant.get(tenant.name)
            if tenants_tails is None:
                tenants_tails = self._by_tenant[tenant.name] = set()
                self.plane.feed.follow(tenant.name, self._on_commit)
            tenants_tails.add(tail)
            if self._poller is None:
                self._poller = asyncio.create_task(self._poll(), name="sync-tail-poll")
        tail.members += 1
        return tail

    def release(self, tail: ScopeTail, subscriber: Subscriber) -> None:
        tail.detach(subscriber)
        tail.members -= 1
        if tail.members > 0:
            return
        tail.stop()
        self._tails.pop(tail.key, None)
        tenants_tails = self._by_tenant.get(tail.tenant.name, set())
        tenants_tails.discard(tail)
        if not tenants_tails:
            self._by_tenant.pop(tail.tenant.name, None)
            self.plane.feed.unfollow(tail.tenant.name, self._on_commit)

    def _on_commit(self, committed: Committed) -> None:
        for tail in self._by_tenant.get(committed.tenant, ()):
            if tail.scope.collection in committed.collections:
                tail.wake()

    async def _poll(self) -> None:
        """Writers in other processes announce nothing here: look now and then."""
        while True:
            await asyncio.sleep(self._poll_seconds)
            for tail in list(self._tails.values()):
                if tail.attached:
                    tail.wake()

    def join(self, session: Subscriber) -> None:
        self._sessions[session] = None

    def leave(self, session: Subscriber) -> None:
        self._sessions.pop(session, None)

    def connected_key_prefixes(self) -> set[str]:
        return {session.key_prefix for session in self._sessions}

    def disconnect_key(self, prefix: str, why: Disconnect = Disconnect.REVOKED) -> None:
        for session in list(self._sessions):
            if session.key_prefix == prefix:
                session.close(why.code, why.reason)

    async def close(self) -> None:
        for session in list(self._sessions):
            session.close(CLOSE_GOING_AWAY, "server shutting down")
        for tail in list(self._tails.values()):
            tail.stop()
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller

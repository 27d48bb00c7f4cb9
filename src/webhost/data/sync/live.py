"""One live sync socket (``/v1/sync``): requests answered in order, subscriptions streamed.

Requests (``push``, ``pull``, ``subscribe``) are handled one at a time, each in its own
transaction. A subscription first catches up page by page from the client's cursor up to where
its scope's tail stands, then attaches to the tail and receives its frames (tails.py). A socket
whose client stops reading falls off the tail and catches up again once it drains; one that
drains nothing for the send timeout is closed. A socket without a subscription is sent
``revision`` notices instead, coalesced per turn of the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections import deque
from dataclasses import dataclass
from typing import Any

import asyncpg
import structlog
from fastapi import WebSocket
from sqlalchemy.exc import SQLAlchemyError

from webhost.data.plane import Caller, DataPlane
from webhost.data.sync import repository, service
from webhost.data.sync.cursors import Cursor
from webhost.data.sync.feed import Committed
from webhost.data.sync.pull import BYTE_BUDGET, MAX_LIMIT, Page, read_page, start_cursor
from webhost.data.sync.schemas import SubscribeBody, parse_envelope
from webhost.data.sync.scopes import Scope
from webhost.data.sync.tails import ScopeTail, changes_message, error_message
from webhost.errors import BadRequest, InvalidInput, WebHostError
from webhost.http.websocket import (
    CLOSE_BAD_MESSAGE,
    CLOSE_SERVER_ERROR,
    CLOSE_TRY_AGAIN_LATER,
    DirectSocket,
    text_frame,
)
from webhost.validation import parse_json

log = structlog.get_logger(__name__)

MAX_BAD_MESSAGES = 10
# unsent bytes a subscriber may fall behind the tail before it is taken off and catches up
MAX_LIVE_BACKLOG_BYTES = 8 * 1024 * 1024
SEND_TIMEOUT_SECONDS = 30.0
RETRY_SECONDS = 1.0


@dataclass(eq=False)
class Subscription:
    collection: str
    scope: Scope
    cursor: str | None  # the last cursor this socket was sent (the client's, at first)
    tail: ScopeTail
    attached: bool = False
    answered: bool = False  # a changes message went out since the subscription began


class LiveSession:
    def __init__(
        self, websocket: WebSocket, socket: DirectSocket, plane: DataPlane, caller: Caller
    ) -> None:
        self.websocket = websocket
        self.socket = socket
        self.plane = plane
        self.tenant = caller.tenant
        self.key_prefix = caller.key_prefix
        self._subscriptions: dict[str, Subscription] = {}
        self._behind: deque[Subscription] = deque()
        self._catching_up: asyncio.Task[None] | None = None
        self._notice: dict[str, Any] | None = None
        self._bad_messages = 0
        self._closed = False

    async def run(self) -> None:
        await self.websocket.accept()
        self.plane.live.join(self)
        self.plane.feed.follow(self.tenant.name, self._on_commit)
        try:
            try:
                async with self.plane.transaction(self.tenant, key_lookups=True) as connection:
                    hello = await service.info(connection, self.plane, self.tenant)
            except (OSError, SQLAlchemyError, asyncpg.PostgresError) as exc:
                log.warning("sync.hello_failed", tenant=self.tenant.name, error=str(exc)[:200])
                self.close(CLOSE_SERVER_ERROR, "storage unavailable; reconnect")
                return
            self._send(json.dumps({"type": "hello", **hello}))
            while not self._closed:
                message = await self.websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                text = message.get("text")
                if text is None:
                    self._refuse(None, BadRequest("send JSON text frames, not binary ones"))
                else:
                    await self._handle(text)
        finally:
            self._closed = True
            self.plane.feed.unfollow(self.tenant.name, self._on_commit)
            self.plane.live.leave(self)
            self._unsubscribe()
            if self._catching_up is not None:
                self._catching_up.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._catching_up

    async def _handle(self, text: str) -> None:
        if self.socket.buffered > MAX_LIVE_BACKLOG_BYTES:
            self.close(CLOSE_TRY_AGAIN_LATER, "not reading its answers")
            return
        request_id: Any = None
        try:
            body = parse_json(text, what="message")
            if not isinstance(body, dict):
                raise BadRequest("a message is a JSON object with a type")
            kind = body.pop("type", None)
            request_id = body.pop("id", None)
            if not isinstance(request_id, str | int | None) or isinstance(request_id, bool):
                request_id = None
                raise InvalidInput("id must be a string or a number")
            if kind == "push":
                answer = await service.push(self.plane, self.tenant, body)
                self._reply("push_result", request_id, answer)
            elif kind == "pull":
                async with self.plane.transaction(self.tenant, key_lookups=True) as connection:
                    answer = await service.pull(connection, self.plane, self.tenant, body)
                self._reply("pull_result", request_id, answer)
            elif kind == "subscribe":
                self._subscribe(parse_envelope(SubscribeBody, body))
            else:
                raise BadRequest("type must be push, pull or subscribe")
        except ValueError as exc:
            self._refuse(request_id, BadRequest(f"message is not valid JSON: {exc}"))
        except BadRequest as error:
            self._refuse(request_id, error)
        except WebHostError as error:
            self._send(json.dumps({"type": "error", "id": request_id, **error.to_body()}))
        except (OSError, SQLAlchemyError, asyncpg.PostgresError) as exc:
            log.warning("sync.request_failed", tenant=self.tenant.name, error=str(exc)[:200])
            unavailable = {"code": "unavailable", "message": "storage unavailable; retry"}
            self._send(json.dumps({"type": "error", "id": request_id, "error": unavailable}))

    def _reply(self, reply_type: str, request_id: Any, answer: str) -> None:
        self._send(f'{{"type":"{reply_type}","id":{json.dumps(request_id)},{answer[1:]}')

    def _refuse(self, request_id: Any, error: WebHostError) -> None:
        """A message outside the protocol: told once each, the socket closed after ten."""
        self._send(json.dumps({"type": "error", "id": request_id, **error.to_body()}))
        self._bad_messages += 1
        if self._bad_messages >= MAX_BAD_MESSAGES:
            self.close(CLOSE_BAD_MESSAGE, "too many messages outside the sync protocol")

    def _send(self, message: str) -> None:
        self.socket.write(text_frame(message))

    def close(self, code: int, reason: str) -> None:
        self._closed = True
        self.socket.close(code, reason)

    # revision notices, for sockets that pull themselves

    def _on_commit(self, committed: Committed) -> None:
        if self._subscriptions or self._closed:
            return
        if self._notice is None:
            self._notice = {"type": "revision", "revision": 0, "collections": set()}
            asyncio.get_running_loop().call_soon(self._send_notice)
        self._notice["revision"] = max(self._notice["revision"], committed.revision)
        self._notice["collections"] |= committed.collections

    def _send_notice(self) -> None:
        notice, self._notice = self._notice, None
        if notice is not None and not self._closed:
            notice["collections"] = sorted(notice["collections"])
            self._send(json.dumps(notice))

    # subscriptions

    def _subscribe(self, body: SubscribeBody) -> None:
        self._unsubscribe()
        for name, wanted in sorted(body.collections.items()):
            scope = service.scope_of(name, wanted)
            if isinstance(scope, WebHostError):
                self._send(error_message(name, scope))
                continue
            tail = self.plane.live.tail(self.tenant, scope)
            subscription = Subscription(name, scope, wanted.cursor, tail)
            self._subscriptions[name] = subscription
            self._behind.append(subscription)
        if self._behind and (self._catching_up is None or self._catching_up.done()):
            self._catching_up = asyncio.create_task(self._catch_up(), name="sync-catch-up")

    def _unsubscribe(self) -> None:
        for subscription in self._subscriptions.values():
            self.plane.live.release(subscription.tail, self)
        self._subscriptions.clear()
        self._behind.clear()

    def _current(self, subscription: Subscription) -> bool:
        return self._subscriptions.get(subscription.collection) is subscription

    def deliver(self, tail: ScopeTail, frame: bytes, cursor: str) -> None:
        """A frame of the tail this socket is attached to."""
        subscription = self._subscriptions.get(tail.scope.collection)
        if subscription is None or subscription.tail is not tail:
            tail.detach(self)
            return
        buffered = self.socket.write(frame)
        if buffered is None:
            return
        subscription.cursor = cursor
        if buffered > MAX_LIVE_BACKLOG_BYTES:
            self._fall_behind(subscription)

    def lose(self, tail: ScopeTail, error: WebHostError | None) -> None:
        """The tail let this socket go: an error ends the subscription, else it catches up."""
        subscription = self._subscriptions.get(tail.scope.collection)
        if subscription is None or subscription.tail is not tail:
            return
        if error is None:
            self._fall_behind(subscription)
            return
        self._send(error_message(subscription.collection, error))
        del self._subscriptions[subscription.collection]
        self.plane.live.release(tail, self)

    def _fall_behind(self, subscription: Subscription) -> None:
        subscription.tail.detach(self)
        subscription.attached = False
        self._behind.append(subscription)
        if self._catching_up is None or self._catching_up.done():
            self._catching_up = asyncio.create_task(self._catch_up(), name="sync-catch-up")

    async def _catch_up(self) -> None:
        while self._behind and not self._closed:
            subscription = self._behind.popleft()
            if not self._current(subscription) or subscription.attached:
                continue
            try:
                await self._catch_up_one(subscription)
            except WebHostError as error:
                if self._current(subscription):
                    self._send(error_message(subscription.collection, error))
                    del self._subscriptions[subscription.collection]
                    self.plane.live.release(subscription.tail, self)
            except (OSError, SQLAlchemyError, asyncpg.PostgresError) as exc:
                log.warning("sync.catch_up_failed", tenant=self.tenant.name, error=str(exc)[:200])
                self._behind.append(subscription)
                await asyncio.sleep(RETRY_SECONDS)

    async def _catch_up_one(self, subscription: Subscription) -> None:
        """Pages from the subscription's cursor to the tail's position, then attach to it."""
        tail = subscription.tail
        cursor: Cursor | None = None
        reset = False
        while self._current(subscription) and not self._closed:
            await self._writable()
            if tail.since is None:
                await tail.advanced()
                continue
            if cursor is None:
                async with self.plane.transaction(self.tenant, key_lookups=True) as connection:
                    position = await repository.read_position(
                        connection, self.tenant, [subscription.collection]
                    )
                cursor, reset = start_cursor(subscription.cursor, subscription.scope, position)
            if cursor.since == tail.since and not reset:
                tail.attach(self)
                subscription.attached = True
                if not subscription.answered:  # tell the client it is caught up
                    self._send_page(subscription, Page("[]", 0, cursor.encode(), False, False))
                return
            if cursor.since > tail.since:
                await tail.advanced()
                continue
            page = await self._read_page(subscription, cursor, tail.since)
            page.reset, reset = reset, False
            self._send_page(subscription, page)
            assert page.cursor is not None
            cursor = Cursor.decode(page.cursor)

    async def _read_page(self, subscription: Subscription, cursor: Cursor, upto: int) -> Page:
        async with self.plane.transaction(self.tenant, key_lookups=True) as connection:
            position = await repository.read_position(
                connection, self.tenant, [subscription.collection]
            )
            page, _size = await read_page(
                connection,
                self.plane.catalogue,
                self.tenant,
                subscription.scope,
                cursor,
                dataclasses.replace(position, revision=upto),
                limit=MAX_LIMIT,
                byte_budget=BYTE_BUDGET,
            )
        return page

    def _send_page(self, subscription: Subscription, page: Page) -> None:
        self._send(changes_message(subscription.collection, page))
        subscription.cursor = page.cursor
        subscription.answered = True

    async def _writable(self) -> None:
        try:
            async with asyncio.timeout(SEND_TIMEOUT_SECONDS):
                await self.socket.writable()
        except TimeoutError:
            self.close(CLOSE_TRY_AGAIN_LATER, "not keeping up")

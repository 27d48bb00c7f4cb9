"""A live sync client over a plain WebSocket, keeping replicas from the changes it is sent."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import quote

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.support.polling import wait_until


class LiveClient:
    def __init__(self, ws_url: str, api_key: str) -> None:
        opening = connect(
            f"{ws_url}/v1/sync?token={quote(api_key, safe='')}",
            proxy=None,
            open_timeout=20,
            max_size=None,
        )
        # entered by hand: the client owns the socket and closes it in close()
        self.socket: ClientConnection = opening.__enter__()
        self.messages: list[dict[str, Any]] = []
        self.replicas: dict[str, dict[Any, dict[str, Any]]] = {}
        self.cursors: dict[str, str | None] = {}
        self.caught_up: set[str] = set()
        self.close_code: int | None = None
        self.hello = self.wait_for("hello")

    def send(self, message: dict[str, Any] | str) -> None:
        self.socket.send(message if isinstance(message, str) else json.dumps(message))

    def subscribe(self, scopes: dict[str, dict[str, Any]]) -> None:
        self.caught_up.clear()
        self.send({"type": "subscribe", "collections": scopes})

    def pump(self) -> LiveClient:
        while self.close_code is None:
            try:
                frame = self.socket.recv(timeout=0.02)
            except TimeoutError:
                break
            except ConnectionClosed as closed:
                self.close_code = closed.rcvd.code if closed.rcvd else 1006
                break
            message = json.loads(frame)
            self.messages.append(message)
            if message["type"] == "changes" and "error" not in message:
                self._apply(message)
        return self

    def _apply(self, message: dict[str, Any]) -> None:
        collection = message["collection"]
        replica = self.replicas.setdefault(collection, {})
        if message["reset"]:
            replica.clear()
        for change in message["changes"]:
            if change["op"] == "put":
                replica[change["key"]] = change["record"]
            else:
                replica.pop(change["key"], None)
        self.cursors[collection] = message["cursor"]
        if not message["more"]:
            self.caught_up.add(collection)

    def wait_for(self, kind: str, **fields: Any) -> dict[str, Any]:
        """The first message of this type (and fields) not yet waited for."""
        found: list[dict[str, Any]] = []

        def arrived() -> bool:
            self.pump()
            for message in self.messages:
                if message["type"] == kind and all(message.get(k) == v for k, v in fields.items()):
                    found.append(message)
                    self.messages.remove(message)
                    return True
            return False

        wait_until(arrived, message=f"a {kind} message {fields or ''}")
        return found[0]

    def request(self, kind: str, request_id: Any, **body: Any) -> dict[str, Any]:
        self.send({"type": kind, "id": request_id, **body})
        return self.wait_for(f"{kind}_result", id=request_id)

    def wait_replica(self, collection: str, expected: dict[Any, dict[str, Any]]) -> None:
        wait_until(
            lambda: self.pump().replicas.get(collection) == expected,
            message=f"replica of {collection} = {expected}",
        )

    def wait_closed(self) -> int:
        wait_until(lambda: self.pump().close_code is not None, message="socket closed")
        assert self.close_code is not None
        return self.close_code

    def quiet_for(self, seconds: float) -> list[dict[str, Any]]:
        """Messages that arrive within ``seconds`` (for checking that nothing comes)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.pump()
        arrived, self.messages = self.messages, []
        return arrived

    def close(self) -> None:
        self.socket.close()

    def __enter__(self) -> LiveClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

"""Live fleet feed: positions and events of a tenant, fanned out to its subscribed sockets.

Ingestion publishes after its transaction commits, so a subscriber never sees a position that
could still be rolled back. Each subscriber has a bounded queue: one that stops reading is
closed (1013, try again later) instead of holding memory or slowing the others. Subscribers
hear of positions ingested by this process; across processes that is a later step (Redis).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from webhost.data.tenancy.disconnects import Disconnect

# messages a subscriber may have waiting before it is dropped as too slow
QUEUE_MESSAGES = 1000


@dataclass(eq=False)
class Subscriber:
    tenant_id: uuid.UUID
    key_prefix: str
    vehicles: frozenset[str] | None  # identifiers to follow; None follows all
    queue: asyncio.Queue[dict[str, Any]] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_MESSAGES)
    )
    # why the hub let go of this subscriber: "slow", or a Disconnect's name ("revoked", ...)
    dropped: str | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, message: dict[str, Any]) -> None:
        if self.dropped is not None:
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.drop("slow")

    def drop(self, reason: str) -> None:
        self.dropped = reason
        self.wake.set()


class FleetHub:
    def __init__(self) -> None:
        self._subscribers: dict[uuid.UUID, set[Subscriber]] = {}

    @contextmanager
    def subscribe(
        self, tenant_id: uuid.UUID, key_prefix: str, vehicles: frozenset[str] | None = None
    ) -> Iterator[Subscriber]:
        subscriber = Subscriber(tenant_id, key_prefix, vehicles)
        self._subscribers.setdefault(tenant_id, set()).add(subscriber)
        try:
            yield subscriber
        finally:
            followers = self._subscribers.get(tenant_id)
            if followers is not None:
                followers.discard(subscriber)
                if not followers:
                    del self._subscribers[tenant_id]

    def has_subscribers(self, tenant_id: uuid.UUID) -> bool:
        return tenant_id in self._subscribers

    def publish_positions(self, tenant_id: uuid.UUID, positions: list[dict[str, Any]]) -> None:
        """``positions``: JSON-ready positions, each with its vehicle's ``identifier``."""
        for subscriber in list(self._subscribers.get(tenant_id, ())):
            chosen = (
                positions
                if subscriber.vehicles is None
                else [p for p in positions if p["identifier"] in subscriber.vehicles]
            )
            if chosen:
                subscriber.offer({"type": "positions", "positions": chosen})

    def publish_events(self, tenant_id: uuid.UUID, events: list[dict[str, Any]]) -> None:
        for subscriber in list(self._subscribers.get(tenant_id, ())):
            for event in events:
                if subscriber.vehicles is None or event["identifier"] in subscriber.vehicles:
                    subscriber.offer({"type": "event", "event": event})

    def connected_key_prefixes(self) -> set[str]:
        return {s.key_prefix for followers in self._subscribers.values() for s in followers}

    def disconnect_key(self, key_prefix: str, why: Disconnect = Disconnect.REVOKED) -> None:
        for followers in self._subscribers.values():
            for subscriber in followers:
                if subscriber.key_prefix == key_prefix:
                    subscriber.drop(why.name.lower())

"""Keys recently found in the tenant directory, for the routes that take positions.

A tracker sends a point every few seconds, each in a request of its own: looking its key up
every time cost a pool connection and five round trips, more than storing the point. Those
routes take the key from here for a few seconds, and the transaction that stores the points
checks every key of its group again (``repository.live_keys``), so a revoked key is refused
from the first write that follows its revocation, cached or not. What a cached entry can
hold back for at most ``ttl_seconds`` is a change of the tenant's limits (the rate, the
retention) to the checks made before the write.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from webhost.data.tenancy.repository import KeyRecord

DEFAULT_TTL_SECONDS = 5.0
MAX_ENTRIES = 10_000


class KeyCache:
    def __init__(self, ttl_seconds: float = DEFAULT_TTL_SECONDS, max_entries: int = MAX_ENTRIES):
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, KeyRecord]] = OrderedDict()

    def get(self, prefix: str) -> KeyRecord | None:
        entry = self._entries.get(prefix)
        if entry is None:
            return None
        expires, record = entry
        if time.monotonic() >= expires:
            del self._entries[prefix]
            return None
        return record

    def put(self, prefix: str, record: KeyRecord) -> None:
        self._entries[prefix] = (time.monotonic() + self._ttl, record)
        self._entries.move_to_end(prefix)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def drop(self, prefix: str) -> None:
        self._entries.pop(prefix, None)

    def clear(self) -> None:
        self._entries.clear()

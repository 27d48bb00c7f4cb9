"""Hybrid logical clock stamps, which order every write of a tenant's records.

A stamp is text that sorts in time order: 16 hex digits (milliseconds since the epoch shifted
left 16 bits, plus a counter for writes in the same millisecond) and then the node that chose
it: empty for the server, the client's id for a stamp a client chose. Comparing two stamps as
text compares them as clocks, and the node breaks ties, so no two writers ever share a stamp.

The server keeps one clock per tenant. A client's stamp is only a hint: it is taken when it is
earlier than the server's clock (an edit made offline keeps its place in time) and replaced by
a fresh server stamp otherwise, so a client whose clock runs ahead cannot win later conflicts.
"""

from __future__ import annotations

import time

STAMP_DIGITS = 16
_COUNTER_BITS = 16


def stamp_text(value: int, node: str = "") -> str:
    return f"{value:0{STAMP_DIGITS}x}{node}"


def stamp_value(stamp: str) -> int:
    """The clock part of a stamp; 0 for the empty stamp of records older than clocks."""
    return int(stamp[:STAMP_DIGITS], 16) if stamp else 0


def wall_value() -> int:
    return (time.time_ns() // 1_000_000) << _COUNTER_BITS


class TenantClock:
    """One tenant's clock in this process: never goes back, always ahead of what it has seen."""

    def __init__(self) -> None:
        self._last = 0

    def tick(self, after: int = 0) -> int:
        """A fresh value later than the wall clock, every earlier tick and ``after``."""
        self._last = max(self._last + 1, wall_value(), after + 1)
        return self._last

    def observe(self, value: int) -> None:
        self._last = max(self._last, value)

    def now(self) -> str:
        """The clock as a stamp, without taking a value: what clients move their clocks past."""
        return stamp_text(max(self._last, wall_value()))

    def server_stamp(self, after: str = "") -> str:
        return stamp_text(self.tick(stamp_value(after)))

    def bounded(self, hint: str, client_id: str) -> str:
        """The client's stamp when it is earlier than now, else a fresh server stamp."""
        value = int(hint, 16)
        if value < max(self._last, wall_value()):
            return stamp_text(value, client_id)
        return stamp_text(self.tick())


class Clocks:
    """The clocks of every tenant this process writes for."""

    def __init__(self) -> None:
        self._clocks: dict[str, TenantClock] = {}

    def of(self, tenant_name: str) -> TenantClock:
        clock = self._clocks.get(tenant_name)
        if clock is None:
            clock = self._clocks[tenant_name] = TenantClock()
        return clock

"""The client's hybrid logical clock: stamps as the server writes them, kept ahead of every
clock the client has seen, so its next write comes after everything it has pulled."""

from __future__ import annotations

import re

from webhost.data.collections.clock import STAMP_DIGITS, stamp_text, stamp_value, wall_value

_STAMP = re.compile(rf"^[0-9a-f]{{{STAMP_DIGITS}}}$")


def is_stamp(text: object) -> bool:
    """16 lower-case hex digits: 12 of milliseconds, 4 of a counter."""
    return isinstance(text, str) and _STAMP.fullmatch(text) is not None


class HybridLogicalClock:
    """Never goes back: each stamp is later than the wall clock, every earlier stamp and every
    stamp observed."""

    def __init__(self, last: str = "") -> None:
        self._last = stamp_value(last) if last else 0

    @property
    def last(self) -> str:
        return stamp_text(self._last)

    def tick(self) -> str:
        self._last = max(self._last + 1, wall_value())
        return stamp_text(self._last)

    def observe(self, stamp: object) -> None:
        """Move past a clock the server sent; anything that is not a stamp is ignored."""
        if is_stamp(stamp):
            assert isinstance(stamp, str)
            self._last = max(self._last, stamp_value(stamp))

"""Waits between attempts to reach a server that did not answer: doubling, capped, jittered so
that many clients cut off together do not all come back in the same instant."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    initial: float = 0.1
    maximum: float = 10.0
    _next: float = field(default=0.0, init=False)

    def delay(self) -> float:
        """The wait before the next attempt; each failure doubles it, up to ``maximum``."""
        self._next = min(self.maximum, self._next * 2 if self._next else self.initial)
        return self._next * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not secrecy

    def reset(self) -> None:
        """The server answered: the next failure starts from ``initial`` again."""
        self._next = 0.0

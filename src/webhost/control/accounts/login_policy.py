"""How failed logins slow down an account or a client address.

Pure functions of a failure record and the time, so every process reading the same record (from
PostgreSQL) decides the same. A few failures are free; after them each attempt must wait, and
every further failure doubles the wait, up to a lockout of ``longest_wait``. Failures are
forgotten ``memory`` after the wait they caused has ended.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

# doubling more often than this already passes any sensible longest wait
_MAX_DOUBLINGS = 64


@dataclass(frozen=True)
class FailureRecord:
    failures: int
    last_failure_at: datetime


@dataclass(frozen=True)
class ThrottlePolicy:
    free_failures: int
    first_wait: timedelta
    longest_wait: timedelta
    memory: timedelta

    def wait_after(self, failures: int) -> timedelta:
        """How long the next attempt waits after ``failures`` remembered failures."""
        if failures < self.free_failures:
            return timedelta(0)
        doublings = min(failures - self.free_failures, _MAX_DOUBLINGS)
        seconds = self.first_wait.total_seconds() * 2.0**doublings
        return timedelta(seconds=min(seconds, self.longest_wait.total_seconds()))

    def blocked_until(self, record: FailureRecord) -> datetime:
        return record.last_failure_at + self.wait_after(record.failures)

    def forgotten_at(self, record: FailureRecord) -> datetime:
        return self.blocked_until(record) + self.memory

    def retry_after(self, record: FailureRecord | None, now: datetime) -> timedelta:
        """Zero when an attempt may go ahead now, else how long it must wait.

        Clocks of concurrent attempts may read a little behind the last failure: that never
        makes free failures wait, nor a wait longer than the failures caused.
        """
        wait = self.wait_after(record.failures) if record is not None else timedelta(0)
        if record is None or not wait:
            return timedelta(0)
        return min(max(record.last_failure_at + wait - now, timedelta(0)), wait)

    def after_failure(self, record: FailureRecord | None, now: datetime) -> FailureRecord:
        if record is None or now >= self.forgotten_at(record):
            return FailureRecord(failures=1, last_failure_at=now)
        return FailureRecord(
            failures=record.failures + 1, last_failure_at=max(now, record.last_failure_at)
        )


def whole_seconds(wait: timedelta) -> int:
    """A wait as the ``Retry-After`` header states it: whole seconds, rounded up, at least 1."""
    return max(1, math.ceil(wait.total_seconds()))


def in_words(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} second{'' if seconds == 1 else 's'}"
    minutes = math.ceil(seconds / 60)
    if minutes < 120:
        return f"{minutes} minutes"
    return f"{math.ceil(minutes / 60)} hours"

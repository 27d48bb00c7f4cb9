"""How the cloud API clients retry: one bounded back-off policy and one reading of Retry-After.

Rate limits (429) and server errors are retried; the wait doubles from ``first_delay`` up to
``max_delay`` unless the service names one with ``Retry-After``, and the waits never add up to
more than ``max_total_wait``, so a provisioning step gives up in a known time.
"""

from __future__ import annotations

import email.utils
import math
import time
from dataclasses import dataclass

from webhost.errors import ConfigurationError


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    first_delay: float = 1.0
    max_delay: float = 16.0
    max_total_wait: float = 60.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or min(self.first_delay, self.max_delay, self.max_total_wait) < 0:
            raise ConfigurationError(
                "a retry policy needs one attempt or more and no negative waits"
            )

    def backoff(self, retries_so_far: int) -> float:
        return float(min(self.max_delay, self.first_delay * 2.0**retries_so_far))

    def delay(self, retries_so_far: int, asked: float | None) -> float:
        """The wait before the next try: what the service asked for, else the back-off."""
        return self.backoff(retries_so_far) if asked is None else asked


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds, from delta-seconds or an HTTP date; None when absent or bad."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


# a plane answers in milliseconds when up; a restart (new image, moved volume) takes seconds
PLANE_RETRIES = RetryPolicy(attempts=6, first_delay=0.5, max_delay=8.0, max_total_wait=45.0)

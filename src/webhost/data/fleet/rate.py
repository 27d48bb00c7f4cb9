"""Points per second a tenant may send, as its plan says (``gps_points_per_second``).

A token bucket per tenant, in the data-plane process: it holds at most one second of points
and refills at the plan's rate. A request is admitted whenever the bucket is not in debt, and
then takes all its points, even more than the bucket holds: the bucket goes into debt, and
requests are refused (429, ``Retry-After``) until the refill has paid it back. So a tracker
that sends a large backlog after being offline is never refused outright, and a tenant's
average stays at its rate. Each plane process counts on its own; a tenant served by several
shares its rate among them only approximately.
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass

from webhost.errors import TooManyRequests

# a debt paid back to the last point is paid, whatever float arithmetic left of it
_ROUNDING = 1e-6


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class PointRate:
    def __init__(self) -> None:
        self._buckets: dict[uuid.UUID, _Bucket] = {}

    def admit(
        self, tenant_id: uuid.UUID, points: int, per_second: int | None, now: float | None = None
    ) -> None:
        """Take ``points`` from the tenant's bucket, or raise TooManyRequests while it is in
        debt; ``per_second`` None is no limit."""
        if per_second is None:
            return
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(tenant_id)
        if bucket is None:
            bucket = self._buckets[tenant_id] = _Bucket(tokens=float(per_second), at=now)
        else:
            refill = max(0.0, now - bucket.at) * per_second
            bucket.tokens = min(float(per_second), bucket.tokens + refill)
            bucket.at = now
        if bucket.tokens < -_ROUNDING:
            wait = math.ceil(-bucket.tokens / per_second)
            raise TooManyRequests(
                f"the plan allows {per_second} GPS points per second; this tenant sent more "
                f"and may send again in {max(1, wait)} s",
                retry_after_seconds=wait,
            )
        bucket.tokens -= points

"""How the fleet domain of a data plane looks after its partitions and takes its positions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from webhost.config import Settings


@dataclass(frozen=True)
class FleetOptions:
    maintenance_interval_seconds: float = 3600.0
    # largest body of POST /v1/fleet/positions and frame of the position stream: room for a
    # full batch of 10,000 points with attributes, past the plane's general body limit
    max_batch_bytes: int = 8 * 1024 * 1024

    @classmethod
    def from_settings(cls, settings: Settings) -> FleetOptions:
        return cls(
            maintenance_interval_seconds=settings.fleet_maintenance_interval_seconds,
            max_batch_bytes=settings.fleet_max_batch_bytes,
        )

"""How the fleet domain of a data plane looks after its partitions and takes its positions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from webhost.config import Settings


@dataclass(frozen=True)
class FleetOptions:
    maintenance_interval_seconds: float = 3600.0
    # how often every tenant is visited for deliveries other processes queued or left behind
    webhook_poll_seconds: float = 60.0
    # deliveries to loopback and private addresses (a laptop's own receiver, tests)
    webhook_allow_private_networks: bool = False
    webhook_disable_after_failures: int = 20
    webhook_first_retry_seconds: float = 10.0
    # largest body of POST /v1/fleet/positions and frame of the position stream: room for a
    # full batch of 10,000 points with attributes, past the plane's general body limit
    max_batch_bytes: int = 8 * 1024 * 1024

    @classmethod
    def from_settings(cls, settings: Settings) -> FleetOptions:
        return cls(
            maintenance_interval_seconds=settings.fleet_maintenance_interval_seconds,
            webhook_allow_private_networks=settings.fleet_webhook_allow_private_networks,
            max_batch_bytes=settings.fleet_max_batch_bytes,
        )

"""How the fleet domain of a data plane looks after its partitions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from webhost.config import Settings


@dataclass(frozen=True)
class FleetOptions:
    maintenance_interval_seconds: float = 3600.0

    @classmethod
    def from_settings(cls, settings: Settings) -> FleetOptions:
        return cls(maintenance_interval_seconds=settings.fleet_maintenance_interval_seconds)

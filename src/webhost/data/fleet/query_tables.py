"""The fleet tables of one tenant, qualified with its schema.

Qualified names keep asyncpg's per-connection cache of prepared statements from serving one
tenant's statement to another (see ``yjs/repository.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from webhost.data.tenancy.scope import Tenant
from webhost.db.admin import quote_ident


@dataclass(frozen=True)
class FleetTables:
    tenant: Tenant

    def _name(self, table: str) -> str:
        return f"{quote_ident(self.tenant.name)}.{quote_ident(table)}"

    @property
    def settings(self) -> str:
        return self._name("_fleet_settings")

    @property
    def vehicles(self) -> str:
        return self._name("fleet_vehicles")

    @property
    def positions(self) -> str:
        return self._name("fleet_positions")

    @property
    def latest(self) -> str:
        return self._name("fleet_latest")

    @property
    def geofences(self) -> str:
        return self._name("fleet_geofences")

    @property
    def events(self) -> str:
        return self._name("fleet_events")

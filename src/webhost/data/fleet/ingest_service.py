"""The one write path of positions: the batch endpoint, the stream and OsmAnd all end here.

A batch is admitted by the tenant's point rate, each point is checked on its own (rejected
ones are reported with the reason, the rest go on), unknown vehicles are registered while the
plan's vehicle limit allows, the weeks' partitions are made sure of, and the batch is stored in
one transaction. ``ingest`` returns only after that transaction has committed, so whatever it
reports as accepted is durable.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import asyncpg

from webhost.data.fleet import events as fleet_events
from webhost.data.fleet import (
    partitions,
    positions_repository,
    vehicles_repository,
    webhooks_repository,
)
from webhost.data.fleet.batches import Candidate
from webhost.data.fleet.points import (
    PointRejected,
    Position,
    Rejection,
    TimeWindow,
    check_position,
    encode_attributes,
    identifier_problem,
)
from webhost.data.fleet.rate import PointRate
from webhost.data.fleet.webhooks_service import event_payloads
from webhost.data.tenancy.limits import TenantLimits
from webhost.db.admin import quote_ident
from webhost.db.driver import driver_of

if TYPE_CHECKING:
    from webhost.data.plane import Caller, DataPlane


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": [rejection.to_json() for rejection in self.rejected],
        }


class KnownWeeks:
    """Weeks whose position partition a tenant is known to have, so most batches skip the
    catalog query; only weeks seen after a commit are remembered."""

    def __init__(self) -> None:
        self._weeks: dict[str, set[date]] = {}

    def missing(self, tenant: str, weeks: set[date]) -> set[date]:
        return weeks - self._weeks.get(tenant, set())

    def add(self, tenant: str, weeks: set[date]) -> None:
        self._weeks.setdefault(tenant, set()).update(weeks)

    def forget(self, tenant: str) -> None:
        self._weeks.pop(tenant, None)


class PositionIngest:
    def __init__(self, plane: DataPlane) -> None:
        self._plane = plane
        self.rate = PointRate()
        self.weeks = KnownWeeks()
        self.rules = fleet_events.RuleCache()

    async def ingest(self, caller: Caller, batch: Sequence[Candidate]) -> IngestResult:
        """Store a batch's valid points; raises TooManyRequests (nothing stored) while the
        tenant's point rate is in debt (rate.py)."""
        limits = caller.limits
        self.rate.admit(caller.tenant.id, len(batch), limits.gps_points_per_second)
        window = TimeWindow.at(datetime.now(UTC), limits.retention_days)
        result = IngestResult()
        valid: list[tuple[int, Position]] = []
        for index, candidate in enumerate(batch):
            if isinstance(candidate, Rejection):
                result.rejected.append(candidate)
                continue
            try:
                valid.append((index, check_position(candidate, window)))
            except PointRejected as rejected:
                result.rejected.append(
                    Rejection(index, _echo(candidate), rejected.reason, rejected.code)
                )
        if valid:
            await self._store(caller, limits, valid, result)
        result.rejected.sort(key=lambda rejection: rejection.index)
        return result

    async def _store(
        self,
        caller: Caller,
        limits: TenantLimits,
        valid: list[tuple[int, Position]],
        result: IngestResult,
    ) -> None:
        tenant = caller.tenant.name
        weeks = {partitions.week_of(position.device_time) for _, position in valid}
        try:
            stored, refused = await self._transaction(caller, limits, valid, weeks)
        except asyncpg.CheckViolationError as exc:
            if "no partition" not in str(exc):
                raise
            # a cached week's partition is gone (dropped by retention elsewhere): ask again
            self.weeks.forget(tenant)
            stored, refused = await self._transaction(caller, limits, valid, weeks)
        self.weeks.add(tenant, weeks)
        result.accepted = stored
        result.duplicates = len(valid) - len(refused) - stored
        result.rejected.extend(refused)

    async def _transaction(
        self,
        caller: Caller,
        limits: TenantLimits,
        valid: list[tuple[int, Position]],
        weeks: set[date],
    ) -> tuple[int, list[Rejection]]:
        missing = self.weeks.missing(caller.tenant.name, weeks)
        if missing:
            # in a transaction of its own: creating a partition locks the whole table, and a
            # batch holding that lock while it waits for a vehicle's row would deadlock others
            async with self._plane.transaction(caller.tenant) as connection:
                await partitions.ensure_partitions(connection, missing)
        async with self._plane.transaction(caller.tenant) as connection:
            driver = await driver_of(connection)
            schema = quote_ident(caller.tenant.name)
            written = await _write(driver, schema, limits, valid, self._watch(caller))
            if written.events:
                await webhooks_repository.enqueue(connection, event_payloads(written.events))
            self._plane.after_commit(connection, lambda: self._announce(caller, written))
            return written.stored, written.refused

    def _watch(self, caller: Caller) -> Watch:
        hub = self._plane.fleet_hub
        return Watch(self.rules, hub.has_subscribers(caller.tenant.id))

    def _announce(self, caller: Caller, written: Written) -> None:
        """After commit: live subscribers get the new positions and events, webhooks go."""
        tenant = caller.tenant
        if written.positions:
            self._plane.fleet_hub.publish_positions(tenant.id, written.positions)
        if written.events:
            self._plane.fleet_hub.publish_events(tenant.id, written.events)
            self._plane.webhooks.wake(tenant)


@dataclass(frozen=True)
class Watch:
    """Who looks at a batch besides the table: event rules, live subscribers."""

    rules: fleet_events.RuleCache
    subscribers: bool


@dataclass
class Written:
    stored: int
    refused: list[Rejection]
    positions: list[dict[str, Any]] = field(default_factory=list)  # for live subscribers
    events: list[dict[str, Any]] = field(default_factory=list)


async def _write(
    driver: asyncpg.Connection,
    schema: str,
    limits: TenantLimits,
    valid: list[tuple[int, Position]],
    watch: Watch,
) -> Written:
    """Store the points in the caller's transaction, with the events they make: how many were
    new, the points refused for the vehicle limit, and what live subscribers are to hear."""
    wanted = list(dict.fromkeys(position.vehicle for _, position in valid))
    ids, over_limit = await _vehicle_ids(driver, schema, wanted, limits.vehicle_limit)
    refused = [
        Rejection(
            index,
            position.vehicle,
            f"vehicle {json.dumps(position.vehicle)} is new and the plan allows at most "
            f"{limits.vehicle_limit} vehicles",
            "vehicle_limit_reached",
        )
        for index, position in valid
        if position.vehicle in over_limit
    ]
    rows: list[positions_repository.StagedRow] = [
        (
            index,
            ids[position.vehicle],
            position.device_time,
            position.latitude,
            position.longitude,
            position.speed,
            position.heading,
            position.altitude,
            position.accuracy,
            position.battery,
            encode_attributes(position.attributes) if position.attributes is not None else None,
        )
        for index, position in valid
        if position.vehicle not in over_limit
    ]
    if not rows:
        return Written(0, refused)
    rules = await watch.rules.rules(driver, schema)
    states = None
    if rules.active() or watch.subscribers:
        # read (and lock) where each vehicle was before this batch moves it
        states = await fleet_events.lock_states(driver, schema, sorted({row[1] for row in rows}))
    stored = await positions_repository.store(driver, schema, rows)
    written = Written(stored, refused)
    if states is not None:
        points = [fleet_events.Point(*row[1:10]) for row in rows]
        outcome = fleet_events.evaluate(points, states, rules)
        written.events = await fleet_events.store(driver, schema, outcome)
        if watch.subscribers:
            written.positions = [
                fleet_events.live_position(point, states[point.vehicle_id].identifier)
                for point in outcome.forward
            ]
    return written


async def _vehicle_ids(
    driver: asyncpg.Connection, schema: str, wanted: list[str], limit: int | None
) -> tuple[dict[str, int], set[str]]:
    """Ids of the wanted vehicles, registering the unknown ones (in the batch's order) while
    the limit allows; returns the identifiers left out by the limit too."""
    ids = await vehicles_repository.ids_of(driver, schema, wanted)
    missing = [identifier for identifier in wanted if identifier not in ids]
    if not missing:
        return ids, set()
    over_limit: set[str] = set()
    if limit is not None:
        await vehicles_repository.lock_registrations(driver)
        ids.update(await vehicles_repository.ids_of(driver, schema, missing))
        missing = [identifier for identifier in missing if identifier not in ids]
        room = max(0, limit - await vehicles_repository.count(driver, schema))
        over_limit = set(missing[room:])
        missing = missing[:room]
    if missing:
        # in one order for every batch: two inserting the same new identifiers in different
        # orders would each wait for the other's uncommitted row
        ids.update(await vehicles_repository.register(driver, schema, sorted(missing)))
        # registered meanwhile by a concurrent batch: its insert won, the row is there now
        raced = [identifier for identifier in missing if identifier not in ids]
        if raced:
            ids.update(await vehicles_repository.ids_of(driver, schema, raced))
    return ids, over_limit


def _echo(position: Position) -> str | None:
    return position.vehicle if identifier_problem(position.vehicle) is None else None

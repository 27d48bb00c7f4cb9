"""The batch writer: a tenant's checked points, from every request that sends them, stored in
group commits (``group_commit.py``).

A tracker sends one point a request; fifty trackers send fifty requests that would each pay a
transaction, its round trips and its commit. The points of requests that arrive while the
tenant's previous group is being written go together in the next one: one transaction checks
the keys that sent them, registers new vehicles within the plan's limit, stores the points,
makes their events and queues their webhooks. Every request is answered with its own part of
the outcome once that transaction has committed, so whatever it reports as stored is durable.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any

import asyncpg
import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from webhost.data.fleet import events as fleet_events
from webhost.data.fleet import (
    partitions,
    positions_repository,
    vehicles_repository,
    webhooks_repository,
)
from webhost.data.fleet.points import Position, Rejection, encode_attributes
from webhost.data.fleet.storage import storage_for
from webhost.data.fleet.webhooks_service import event_payloads
from webhost.data.group_commit import TenantGroupCommitter
from webhost.data.tenancy import repository
from webhost.data.tenancy.limits import TenantLimits
from webhost.data.tenancy.scope import Tenant, enter_tenant
from webhost.db.admin import quote_ident
from webhost.db.driver import driver_of
from webhost.db.failures import storage_unavailable
from webhost.errors import ServiceBusy, Unauthorized, WebHostError

if TYPE_CHECKING:
    from webhost.data.plane import Caller, DataPlane

log = structlog.get_logger(__name__)

# a group stops taking requests past this many points (a full batch of 10,000 goes alone)
MAX_GROUP_POINTS = 10_000
# a request of this many points pays for its transaction itself: it is stored at once, beside
# any group in flight, so that concurrent batches keep PostgreSQL's cores busy
ALONE_POINTS = 500


@dataclass(frozen=True, eq=False)
class Submission:
    """One request's checked points: (index in its batch, position); each is itself only."""

    caller: Caller
    points: Sequence[tuple[int, Position]]


@dataclass
class Stored:
    """A submission's part of its group's outcome."""

    stored: int = 0
    refused: list[Rejection] = field(default_factory=list)  # over the vehicle limit


# a submission is answered with its outcome, or with why it was refused as a whole
Answer = Stored | WebHostError


class KnownWeeks:
    """Weeks a tenant is known to have room for (storage.py), so most groups skip asking; only
    weeks seen after a commit are remembered."""

    def __init__(self) -> None:
        self._weeks: dict[str, set[date]] = {}

    def missing(self, tenant: str, weeks: set[date]) -> set[date]:
        return weeks - self._weeks.get(tenant, set())

    def add(self, tenant: str, weeks: set[date]) -> None:
        self._weeks.setdefault(tenant, set()).update(weeks)

    def forget(self, tenant: str) -> None:
        self._weeks.pop(tenant, None)


class PositionWriter:
    def __init__(self, plane: DataPlane) -> None:
        self._plane = plane
        self.weeks = KnownWeeks()
        self.rules = fleet_events.RuleCache()
        self._groups: TenantGroupCommitter[Submission, Answer] = TenantGroupCommitter(
            self._write_group,
            size=lambda submission: len(submission.points),
            max_group_size=MAX_GROUP_POINTS,
            alone_from=ALONE_POINTS,
            name="fleet.positions",
        )

    async def write(self, submission: Submission) -> Stored:
        """Store a request's points with the others of its group; raises what refused it."""
        answer = await self._groups.submit(submission.caller.tenant, submission)
        if isinstance(answer, WebHostError):
            raise answer
        return answer

    async def _write_group(self, tenant: Tenant, group: Sequence[Submission]) -> list[Answer]:
        weeks = {
            partitions.week_of(position.device_time)
            for submission in group
            for _, position in submission.points
        }
        try:
            try:
                answers = await self._transaction(tenant, group, weeks)
            except asyncpg.CheckViolationError as exc:
                if "no partition" not in str(exc):
                    raise
                # a cached week's partition is gone (dropped by retention elsewhere): ask again
                self.weeks.forget(tenant.name)
                answers = await self._transaction(tenant, group, weeks)
        except Exception as exc:
            if not storage_unavailable(exc):
                raise
            log.warning("fleet.positions_storage_failed", tenant=tenant.name, error=str(exc)[:200])
            raise ServiceBusy(
                "storage unavailable: no position of this request was stored; send it again",
                retry_after_seconds=1,
            ) from exc
        self.weeks.add(tenant.name, weeks)
        return answers

    async def _transaction(
        self, tenant: Tenant, group: Sequence[Submission], weeks: set[date]
    ) -> list[Answer]:
        missing = self.weeks.missing(tenant.name, weeks)
        if missing:
            # in a transaction of its own: creating a partition locks the whole table, and a
            # group holding that lock while it waits for a vehicle's row would deadlock others
            async with self._plane.transaction(tenant) as connection:
                storage = await storage_for(connection, tenant)
                await storage.prepare_weeks(connection, missing)
        async with self._plane.transaction() as connection:
            refused, limits = await self._check_keys(connection, tenant, group)
            admitted = [submission for submission in group if submission not in refused]
            if not admitted:
                return [refused[submission] for submission in group]
            await enter_tenant(connection, tenant)
            driver = await driver_of(connection)
            points = _Points(admitted)
            written = await _write(
                driver, quote_ident(tenant.name), limits, points.numbered, self._watch(tenant)
            )
            if written.events:
                await webhooks_repository.enqueue(connection, event_payloads(written.events))
            self._plane.after_commit(connection, lambda: self._announce(tenant, written))
        outcomes = iter(points.split(written))
        return [refused.get(submission) or next(outcomes) for submission in group]

    async def _check_keys(
        self, connection: AsyncConnection, tenant: Tenant, group: Sequence[Submission]
    ) -> tuple[dict[Submission, WebHostError], TenantLimits]:
        """The group's keys, as the directory has them in this transaction: submissions whose
        key was revoked (or whose tenant was suspended) since it was read are refused. Returns
        them, and the tenant's limits as they are now."""
        live = await repository.live_keys(
            connection, sorted({submission.caller.key_prefix for submission in group})
        )
        refused: dict[Submission, WebHostError] = {}
        limits = group[0].caller.limits
        for submission in group:
            prefix = submission.caller.key_prefix
            key = live.get(prefix)
            if key is None or key[0] != tenant.id:
                self._plane.sender_keys.drop(prefix)
                refused[submission] = Unauthorized("invalid or revoked API key")
            else:
                limits = key[1]
        return refused, limits

    def _watch(self, tenant: Tenant) -> Watch:
        return Watch(self.rules, self._plane.fleet_hub.has_subscribers(tenant.id))

    def _announce(self, tenant: Tenant, written: Written) -> None:
        """After commit: live subscribers get the new positions and events, webhooks go."""
        if written.positions:
            self._plane.fleet_hub.publish_positions(tenant.id, written.positions)
        if written.events:
            self._plane.fleet_hub.publish_events(tenant.id, written.events)
            self._plane.webhooks.wake(tenant)


class _Points:
    """A group's points numbered one after another, and each submission's part of the outcome
    found again by those numbers."""

    def __init__(self, group: Sequence[Submission]) -> None:
        self._group = group
        self.numbered: list[tuple[int, Position]] = []
        self._starts: list[int] = []
        for submission in group:
            start = len(self.numbered)
            self._starts.append(start)
            self.numbered.extend(
                (start + n, position) for n, (_index, position) in enumerate(submission.points)
            )

    def split(self, written: Written) -> list[Stored]:
        outcomes = [Stored() for _ in self._group]
        for number in written.stored:
            outcomes[self._submission_of(number)].stored += 1
        for rejection in written.refused:
            which = self._submission_of(rejection.index)
            index, _position = self._group[which].points[rejection.index - self._starts[which]]
            outcomes[which].refused.append(replace(rejection, index=index))
        return outcomes

    def _submission_of(self, number: int) -> int:
        return bisect.bisect_right(self._starts, number) - 1


@dataclass(frozen=True)
class Watch:
    """Who looks at a group besides the table: event rules, live subscribers."""

    rules: fleet_events.RuleCache
    subscribers: bool


@dataclass
class Written:
    stored: set[int]  # the numbers of the points that were new
    refused: list[Rejection]
    positions: list[dict[str, Any]] = field(default_factory=list)  # for live subscribers
    events: list[dict[str, Any]] = field(default_factory=list)


async def _write(
    driver: asyncpg.Connection,
    schema: str,
    limits: TenantLimits,
    points: list[tuple[int, Position]],
    watch: Watch,
) -> Written:
    """Store the numbered points in the caller's transaction, with the events they make: which
    were new, those refused for the vehicle limit, and what live subscribers are to hear."""
    wanted = list(dict.fromkeys(position.vehicle for _, position in points))
    ids, over_limit = await _vehicle_ids(driver, schema, wanted, limits.vehicle_limit)
    refused = [
        Rejection(
            number,
            position.vehicle,
            f"vehicle {json.dumps(position.vehicle)} is new and the plan allows at most "
            f"{limits.vehicle_limit} vehicles",
            "vehicle_limit_reached",
        )
        for number, position in points
        if position.vehicle in over_limit
    ]
    rows: list[positions_repository.StagedRow] = [
        (
            number,
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
        for number, position in points
        if position.vehicle not in over_limit
    ]
    if not rows:
        return Written(set(), refused)
    rules = await watch.rules.rules(driver, schema)
    states = None
    if rules.active() or watch.subscribers:
        # read (and lock) where each vehicle was before this group moves it
        states = await fleet_events.lock_states(driver, schema, sorted({row[1] for row in rows}))
    stored = await positions_repository.store(driver, schema, rows)
    written = Written(stored, refused)
    if states is not None:
        moved = [fleet_events.Point(*row[1:10]) for row in rows]
        outcome = fleet_events.evaluate(moved, states, rules)
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
    """Ids of the wanted vehicles, registering the unknown ones (in the group's order) while
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
        # in one order for every group: two inserting the same new identifiers in different
        # orders would each wait for the other's uncommitted row
        ids.update(await vehicles_repository.register(driver, schema, sorted(missing)))
        # registered meanwhile by a concurrent group: its insert won, the row is there now
        raced = [identifier for identifier in missing if identifier not in ids]
        if raced:
            ids.update(await vehicles_repository.ids_of(driver, schema, raced))
    return ids, over_limit

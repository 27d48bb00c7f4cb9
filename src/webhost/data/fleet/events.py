"""Fleet events made as positions arrive: geofence enter and exit, and overspeed.

Only points newer than a vehicle's latest stored position make events (a late point changes
history, not the present). Per vehicle, in time order: the geofences holding the point are
compared with those that held the previous one (``fleet_latest.geofences``); a speed over the
vehicle's limit (``speed_limit_kmh``, else the tenant's ``overspeed_kmh``) after one that was
not makes one overspeed event per episode. The vehicles' rows are locked for the batch, so two
batches of one vehicle are judged one after the other. Events are stored, and their webhook
deliveries queued, in the batch's transaction; live subscribers hear of positions and events
after it commits.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from webhost.data.fleet.geometry import Geofence, geofences_containing
from webhost.data.fleet.polygons import LonLat


@dataclass(frozen=True)
class Rules:
    """What makes events for a tenant; ``version`` tells when to load them again."""

    version: tuple[Any, ...]
    geofences: tuple[Geofence, ...] = ()
    names: dict[int, str] = field(default_factory=dict)
    overspeed_kmh: float | None = None  # the tenant's; a vehicle's own limit comes first
    vehicles_have_limits: bool = False

    def active(self) -> bool:
        """Whether any point could make an event."""
        return bool(self.geofences) or self.overspeed_kmh is not None or self.vehicles_have_limits


@dataclass
class VehicleState:
    vehicle_id: int
    identifier: str
    speed_limit_kmh: float | None
    latest_time: datetime | None
    latest_speed: float | None
    inside: set[int]


@dataclass(frozen=True)
class Point:
    """A stored point as events see it."""

    vehicle_id: int
    device_time: datetime
    latitude: float
    longitude: float
    speed: float | None
    heading: float | None = None
    altitude: float | None = None
    accuracy: float | None = None
    battery: float | None = None


def live_position(point: Point, identifier: str) -> dict[str, Any]:
    """A position as live subscribers get it: the fields of ``GET /v1/fleet/latest``."""
    return {
        "identifier": identifier,
        "device_time": _rfc3339(point.device_time),
        "latitude": point.latitude,
        "longitude": point.longitude,
        "speed": point.speed,
        "heading": point.heading,
        "altitude": point.altitude,
        "accuracy": point.accuracy,
        "battery": point.battery,
    }


@dataclass
class Outcome:
    events: list[dict[str, Any]] = field(default_factory=list)
    # vehicle id -> the geofences holding its newest point, where that changed
    inside: dict[int, list[int]] = field(default_factory=dict)
    # the points newer than their vehicle's latest, in time order per vehicle
    forward: list[Point] = field(default_factory=list)


_VERSION = (
    "SELECT (SELECT overspeed_kmh FROM {schema}._fleet_settings), "
    "(SELECT count(*) FROM {schema}.fleet_geofences), "
    "(SELECT max(updated_at) FROM {schema}.fleet_geofences), "
    "(SELECT count(*) FROM {schema}.fleet_vehicles WHERE speed_limit_kmh IS NOT NULL)"
)


class RuleCache:
    """Each tenant's rules, loaded again only when its geofences or limits changed (one
    small query a batch tells)."""

    def __init__(self) -> None:
        self._rules: dict[str, Rules] = {}

    async def rules(self, driver: asyncpg.Connection, schema: str) -> Rules:
        row = await driver.fetchrow(_VERSION.format(schema=schema))
        assert row is not None
        version = tuple(row)
        cached = self._rules.get(schema)
        if cached is not None and cached.version == version:
            return cached
        geofences, names = [], {}
        for fence in await driver.fetch(
            f"SELECT id, name, area, center, radius_m FROM {schema}.fleet_geofences"
        ):
            names[fence["id"]] = fence["name"]
            if fence["center"] is not None:
                center: LonLat = (fence["center"].x, fence["center"].y)
                geofences.append(Geofence.of_circle(fence["id"], center, fence["radius_m"]))
            else:
                vertices = [(point.x, point.y) for point in fence["area"].points]
                geofences.append(Geofence.of_polygon(fence["id"], vertices))
        overspeed, _count, _updated, vehicles_with_limits = version
        rules = Rules(
            version=version,
            geofences=tuple(geofences),
            names=names,
            overspeed_kmh=overspeed,
            vehicles_have_limits=bool(vehicles_with_limits),
        )
        self._rules[schema] = rules
        return rules


async def lock_states(
    driver: asyncpg.Connection, schema: str, vehicle_ids: Sequence[int]
) -> dict[int, VehicleState]:
    """The vehicles' state before the batch, their rows locked against other batches (NO KEY
    UPDATE: compatible with the KEY SHARE the batch's own vehicle lookup took, in every batch)."""
    rows = await driver.fetch(
        f"SELECT v.id, v.identifier, v.speed_limit_kmh, l.device_time, l.speed, l.geofences "
        f"FROM {schema}.fleet_vehicles v LEFT JOIN {schema}.fleet_latest l ON l.vehicle_id = v.id "
        "WHERE v.id = ANY($1::bigint[]) ORDER BY v.id FOR NO KEY UPDATE OF v",
        list(vehicle_ids),
    )
    return {
        row["id"]: VehicleState(
            vehicle_id=row["id"],
            identifier=row["identifier"],
            speed_limit_kmh=row["speed_limit_kmh"],
            latest_time=row["device_time"],
            latest_speed=row["speed"],
            inside=set(row["geofences"] or ()),
        )
        for row in rows
    }


def evaluate(points: Sequence[Point], states: dict[int, VehicleState], rules: Rules) -> Outcome:
    """The events the points make, and where each vehicle ends up."""
    outcome = Outcome()
    seen: set[tuple[int, datetime]] = set()
    ordered = sorted(points, key=lambda point: (point.vehicle_id, point.device_time))
    for point in ordered:
        state = states[point.vehicle_id]
        key = (point.vehicle_id, point.device_time)
        if key in seen or (
            state.latest_time is not None and point.device_time <= state.latest_time
        ):
            continue  # stored before, or older than the present: history, not news
        seen.add(key)
        outcome.forward.append(point)
        inside = geofences_containing(point.latitude, point.longitude, rules.geofences)
        for geofence in sorted(inside - state.inside):
            outcome.events.append(_event("geofence_enter", state, point, geofence, rules))
        for geofence in sorted(state.inside - inside):
            outcome.events.append(_event("geofence_exit", state, point, geofence, rules))
        if inside != state.inside:
            outcome.inside[point.vehicle_id] = sorted(inside)
        limit = state.speed_limit_kmh or rules.overspeed_kmh
        speeding = limit is not None and point.speed is not None and point.speed > limit
        was_speeding = (
            limit is not None and state.latest_speed is not None and state.latest_speed > limit
        )
        if speeding and not was_speeding:
            outcome.events.append(_event("overspeed", state, point, None, rules, limit))
        state.inside = inside
        state.latest_time = point.device_time
        state.latest_speed = point.speed
    return outcome


def _event(
    kind: str,
    state: VehicleState,
    point: Point,
    geofence: int | None,
    rules: Rules,
    limit: float | None = None,
) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    if geofence is not None:
        attributes["geofence_name"] = rules.names.get(geofence, "")
    if limit is not None:
        attributes["speed_limit_kmh"] = limit
    return {
        "type": kind,
        "vehicle_id": state.vehicle_id,
        "identifier": state.identifier,
        "event_time": point.device_time,
        "geofence_id": geofence,
        "latitude": point.latitude,
        "longitude": point.longitude,
        "speed": point.speed,
        "attributes": attributes,
    }


async def store(driver: asyncpg.Connection, schema: str, outcome: Outcome) -> list[dict[str, Any]]:
    """Insert the events and the vehicles' geofences; returns the events as JSON-ready dicts,
    with their ids."""
    if outcome.inside:
        await driver.execute(
            f"UPDATE {schema}.fleet_latest l SET geofences = ARRAY(SELECT "
            "CAST(jsonb_array_elements_text(x.value) AS bigint)) "
            "FROM jsonb_each(CAST($1 AS jsonb)) x WHERE l.vehicle_id = CAST(x.key AS bigint)",
            json.dumps({str(vehicle): inside for vehicle, inside in outcome.inside.items()}),
        )
    if not outcome.events:
        return []
    events = outcome.events
    rows = await driver.fetch(
        f"INSERT INTO {schema}.fleet_events (vehicle_id, type, event_time, geofence_id, "
        "latitude, longitude, speed, attributes) SELECT * FROM unnest($1::bigint[], $2::text[], "
        "$3::timestamptz[], $4::bigint[], $5::float8[], $6::float8[], $7::real[], $8::jsonb[]) "
        "RETURNING id",
        [e["vehicle_id"] for e in events],
        [e["type"] for e in events],
        [e["event_time"] for e in events],
        [e["geofence_id"] for e in events],
        [e["latitude"] for e in events],
        [e["longitude"] for e in events],
        [e["speed"] for e in events],
        [json.dumps(e["attributes"]) for e in events],
    )
    # one statement inserts the unnested rows in their order, and returns them in it
    return [
        {
            "id": row["id"],
            **{k: v for k, v in event.items() if k != "vehicle_id"},
            "event_time": _rfc3339(event["event_time"]),
        }
        for row, event in zip(rows, events, strict=True)
    ]


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")

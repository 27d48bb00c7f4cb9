"""Realistic vehicle tracks for the fleet simulator: driving with smooth turns, speed changes
and stops, each vehicle on its own clock.

A vehicle accelerates towards a cruising speed that changes now and then, turns gradually,
and sometimes stops for a few minutes (so trip and stop reports have something to find).
Positions advance on the sphere by distance = speed x time along the heading.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class SimulatedPoint:
    vehicle: str
    time: datetime
    latitude: float
    longitude: float
    speed_kmh: float
    heading: float
    altitude: float
    accuracy: float
    battery: float


def move(latitude: float, longitude: float, heading: float, meters: float) -> tuple[float, float]:
    """The point ``meters`` away along ``heading`` (degrees from north), on a sphere."""
    angular = meters / EARTH_RADIUS_M
    bearing = math.radians(heading)
    lat1, lon1 = math.radians(latitude), math.radians(longitude)
    lat2 = math.asin(
        math.sin(lat1) * math.cos(angular) + math.cos(lat1) * math.sin(angular) * math.cos(bearing)
    )
    lon2 = lon1 + math.atan2(
        math.sin(bearing) * math.sin(angular) * math.cos(lat1),
        math.cos(angular) - math.sin(lat1) * math.sin(lat2),
    )
    longitude2 = (math.degrees(lon2) + 540.0) % 360.0 - 180.0
    return max(-89.9, min(89.9, math.degrees(lat2))), longitude2


@dataclass
class Vehicle:
    identifier: str
    latitude: float
    longitude: float
    clock: datetime
    chance: random.Random
    heading: float = 0.0
    speed_kmh: float = 0.0
    cruise_kmh: float = 50.0
    stopped_for: float = 0.0  # seconds left in the current stop
    battery: float = 100.0
    altitude: float = 40.0
    _turn: float = field(default=0.0)

    def advance(self, seconds: float) -> SimulatedPoint:
        """Drive ``seconds`` further and report where the vehicle is now."""
        chance = self.chance
        if self.stopped_for > 0:
            self.stopped_for = max(0.0, self.stopped_for - seconds)
            self.speed_kmh = 0.0
        else:
            if chance.random() < 0.004 * seconds:  # about one stop every four minutes of driving
                self.stopped_for = chance.uniform(60, 420)
            if chance.random() < 0.02 * seconds:
                self.cruise_kmh = chance.choice([30.0, 50.0, 50.0, 70.0, 90.0, 120.0])
            # speed eases towards the cruising speed, about 2 m/s² at most
            step = min(abs(self.cruise_kmh - self.speed_kmh), 7.2 * seconds)
            self.speed_kmh += math.copysign(step, self.cruise_kmh - self.speed_kmh)
            if chance.random() < 0.05 * seconds:
                self._turn = chance.uniform(-12.0, 12.0)  # degrees a second, for a while
            self.heading = (self.heading + self._turn * seconds) % 360.0
            if chance.random() < 0.2:
                self._turn *= 0.5
            meters = self.speed_kmh / 3.6 * seconds
            self.latitude, self.longitude = move(
                self.latitude, self.longitude, self.heading, meters
            )
        self.clock += timedelta(seconds=seconds)
        self.battery = max(5.0, self.battery - 0.001 * seconds)
        self.altitude += chance.uniform(-0.5, 0.5)
        return SimulatedPoint(
            vehicle=self.identifier,
            time=self.clock,
            latitude=round(self.latitude, 7),
            longitude=round(self.longitude, 7),
            speed_kmh=round(self.speed_kmh, 2),
            heading=round(self.heading, 1) % 360.0,
            altitude=round(self.altitude, 1),
            accuracy=round(chance.uniform(3.0, 15.0), 1),
            battery=round(self.battery, 1),
        )


def fleet(
    count: int,
    *,
    center: tuple[float, float],
    spread_m: float,
    start: datetime,
    seed: int,
    prefix: str = "sim",
) -> list[Vehicle]:
    """``count`` vehicles scattered within ``spread_m`` of ``center`` (latitude, longitude)."""
    chance = random.Random(seed)  # noqa: S311 - repeatable tracks, not secrets
    vehicles = []
    for number in range(count):
        latitude, longitude = move(
            center[0], center[1], chance.uniform(0, 360), spread_m * math.sqrt(chance.random())
        )
        vehicles.append(
            Vehicle(
                identifier=f"{prefix}-{number + 1:04d}",
                latitude=latitude,
                longitude=longitude,
                clock=start,
                chance=random.Random(chance.getrandbits(64)),  # noqa: S311
                heading=chance.uniform(0, 360),
                cruise_kmh=chance.choice([30.0, 50.0, 70.0]),
            )
        )
    return vehicles

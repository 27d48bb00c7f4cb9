"""How simulated devices talk to a data plane: OsmAnd requests as the Traccar Client app sends
them, or batches to ``POST /v1/fleet/positions``."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx

from webhost.simulator.tracks import SimulatedPoint

KNOTS_PER_KMH = 1 / 1.852


def osmand_parameters(point: SimulatedPoint, *, milliseconds: bool) -> dict[str, str]:
    """The query of one OsmAnd report: speed in knots, time in epoch seconds (or ms)."""
    epoch = point.time.timestamp()
    return {
        "id": point.vehicle,
        "lat": f"{point.latitude:.7f}",
        "lon": f"{point.longitude:.7f}",
        "timestamp": str(round(epoch * 1000) if milliseconds else int(epoch)),
        "speed": f"{point.speed_kmh * KNOTS_PER_KMH:.2f}",
        "bearing": f"{point.heading:.1f}",
        "altitude": f"{point.altitude:.1f}",
        "accuracy": f"{point.accuracy:.1f}",
        "batt": f"{point.battery:.1f}",
    }


def batch_point(point: SimulatedPoint) -> dict[str, Any]:
    return {
        "vehicle": point.vehicle,
        "time": point.time.isoformat().replace("+00:00", "Z"),
        "latitude": point.latitude,
        "longitude": point.longitude,
        "speed": point.speed_kmh,
        "heading": point.heading,
        "altitude": point.altitude,
        "accuracy": point.accuracy,
        "battery": point.battery,
    }


def osmand_url(base_url: str, key: str) -> str:
    return f"{base_url.rstrip('/')}/v1/fleet/osmand/{quote(key, safe='')}"


class SendFailed(Exception):
    """The plane answered with an error; ``status`` is its HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def send_osmand(
    client: httpx.AsyncClient, url: str, point: SimulatedPoint, *, milliseconds: bool
) -> None:
    response = await client.get(url, params=osmand_parameters(point, milliseconds=milliseconds))
    if response.status_code != 200:
        raise SendFailed(response.status_code, response.text[:200])


async def send_batch(
    client: httpx.AsyncClient, base_url: str, key: str, points: list[SimulatedPoint]
) -> dict[str, Any]:
    """The plane's answer: accepted, duplicates and rejected counts."""
    response = await client.post(
        f"{base_url.rstrip('/')}/v1/fleet/positions",
        content=json.dumps([batch_point(point) for point in points]),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    if response.status_code != 200:
        raise SendFailed(response.status_code, response.text[:200])
    answer: dict[str, Any] = response.json()
    return answer

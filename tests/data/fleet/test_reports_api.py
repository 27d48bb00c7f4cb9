"""Trip, stop and summary reports over HTTP match the pure functions on the stored track."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import TypeAdapter

from tests.data.fleet.positions import Fix, FleetDatabase, Vehicle
from tests.data.fleet.tracks import drive, then
from tests.support.bad_input import assert_clear_error
from tests.support.database import ProvisionedTenant
from webhost.data.fleet.reports import ReportOptions, Stop, Summary, TrackPoint, Trip, analyse

START = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)


def day_out() -> list[TrackPoint]:
    track = drive(START, (52.52, 13.40), 600, 0.0)
    then(track, 1500, 45.0)
    then(track, 900, 0.0)
    then(track, 200, 30.0, report_speed=False)
    then(track, 120, 0.0)
    then(track, 1200, 60.0, bearing=200.0)
    then(track, 600, 0.0)
    return track


def as_fixes(track: list[TrackPoint]) -> list[Fix]:
    return [Fix(p.time, p.latitude, p.longitude, speed=p.speed) for p in track]


def report(client: httpx.Client, kind: str, **params: Any) -> Any:
    response = client.get(f"/v1/fleet/vehicles/car/reports/{kind}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _window() -> dict[str, str]:
    return {
        "from": START.isoformat(),
        "to": (START + timedelta(hours=2)).isoformat(),
    }


def test_reports_are_the_analysis_of_the_stored_track(
    client: httpx.Client, fleet: FleetDatabase, tenant: ProvisionedTenant
) -> None:
    track = day_out()
    fleet.add_vehicles(tenant.tenant, [Vehicle("car", "", as_fixes(track))])
    expected = analyse(track)
    assert (len(expected.trips), len(expected.stops)) == (2, 3)
    window = _window()
    trips = report(client, "trips", **window)
    assert trips == TypeAdapter(list[Trip]).dump_python(expected.trips, mode="json")
    stops = report(client, "stops", **window)
    assert stops == TypeAdapter(list[Stop]).dump_python(expected.stops, mode="json")
    summary = report(client, "summary", **window)
    assert summary == TypeAdapter(Summary).dump_python(expected.summary, mode="json")
    assert summary["points"] == len(track)


def test_report_options_reach_the_analysis(
    client: httpx.Client, fleet: FleetDatabase, tenant: ProvisionedTenant
) -> None:
    track = day_out()
    fleet.add_vehicles(tenant.tenant, [Vehicle("car", "", as_fixes(track))])
    options = ReportOptions(
        min_stop_seconds=60, speed_threshold_kmh=10, min_trip_meters=100, min_trip_seconds=600
    )
    params = {**_window(), **{k: str(v) for k, v in dataclasses.asdict(options).items()}}
    expected = analyse(track, options)
    assert (len(expected.trips), len(expected.stops)) == (3, 4)  # the two-minute pause counts
    assert report(client, "stops", **params) == TypeAdapter(list[Stop]).dump_python(
        expected.stops, mode="json"
    )
    assert report(client, "trips", **params) == TypeAdapter(list[Trip]).dump_python(
        expected.trips, mode="json"
    )


def test_a_range_without_points_reports_nothing(
    client: httpx.Client, fleet: FleetDatabase, tenant: ProvisionedTenant
) -> None:
    fleet.add_vehicles(tenant.tenant, [Vehicle("car", "", as_fixes(day_out()))])
    empty = {
        "from": (START - timedelta(days=3)).isoformat(),
        "to": (START - timedelta(seconds=1)).isoformat(),
    }
    assert report(client, "trips", **empty) == []
    assert report(client, "stops", **empty) == []
    summary = report(client, "summary", **empty)
    assert summary["points"] == 0
    assert summary["start"] is None
    assert summary["distance_m"] == 0


@pytest.mark.parametrize("kind", ["trips", "stops", "summary"])
@pytest.mark.parametrize(
    "params",
    [
        {"min_stop_seconds": -1},
        {"min_stop_seconds": "nan"},
        {"min_stop_seconds": 10**9},
        {"speed_threshold_kmh": "inf"},
        {"speed_threshold_kmh": "-0.5"},
        {"min_trip_meters": "1e400"},
        {"min_trip_meters": "far"},
        {"min_trip_seconds": "-inf"},
        {"max_gap_seconds": 0},
        {"from": "2024-05-02T00:00:00Z", "to": "2024-05-01T00:00:00Z"},
        {"from": "2024-01-01T00:00:00Z", "to": "2024-05-01T00:00:00Z"},
        {"to": "\x00"},
    ],
)
def test_bad_report_parameters_get_422(
    client: httpx.Client,
    fleet: FleetDatabase,
    tenant: ProvisionedTenant,
    kind: str,
    params: dict[str, Any],
) -> None:
    fleet.add_vehicles(tenant.tenant, [Vehicle("car", "", [Fix(START, 1.0, 1.0)])])
    assert_clear_error(client.get(f"/v1/fleet/vehicles/car/reports/{kind}", params=params), 422)


def test_reports_of_an_unknown_vehicle_are_not_found(client: httpx.Client) -> None:
    for kind in ("trips", "stops", "summary"):
        assert_clear_error(client.get(f"/v1/fleet/vehicles/ghost/reports/{kind}"), 404)

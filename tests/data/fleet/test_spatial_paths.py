"""The two spatial paths give the same answers on the same data, and the answers are right.

Each path is called directly on one tenant. A PostGIS tenant (on a server with PostGIS) has
both the ``geog`` and the core ``location`` columns, so both paths run there and must agree;
on a server without PostGIS the core path runs alone. Either way the answers are checked
against the pure functions of ``geometry`` applied to the generated data.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.data.fleet.fleets import (
    DISTANCE_TOLERANCE_M,
    WINDOW,
    assert_same_vehicles,
    distances,
    generated_fleet,
    in_box,
    in_polygon,
    latest_places,
    position_keys,
    positions_where,
)
from tests.data.fleet.positions import FleetDatabase, Vehicle
from tests.data.fleet.shapes import (
    near_boundary,
    places_around,
    radii,
    star_polygons,
)
from tests.support.database import ProvisionedTenant
from webhost.data.fleet.geometry import Bounds, haversine_m
from webhost.data.fleet.polygons import LonLat
from webhost.data.fleet.query_tables import FleetTables
from webhost.data.fleet.spatial import spatial_for
from webhost.data.fleet.spatial_core import CORE
from webhost.data.fleet.spatial_postgis import POSTGIS
from webhost.data.fleet.spatial_sql import SpatialQueries

PATHS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class Paths:
    """The spatial paths a tenant can run, called directly in tenant transactions."""

    def __init__(self, fleet: FleetDatabase, tenant: ProvisionedTenant) -> None:
        self.fleet, self.tenant = fleet, tenant.tenant
        self.tables = FleetTables(tenant.tenant)
        chosen = self.ask(lambda connection: spatial_for(connection, self.tables))
        self.paths: list[SpatialQueries] = [CORE] if chosen is CORE else [POSTGIS, CORE]

    def ask(self, work: Callable[[AsyncConnection], Awaitable[Any]]) -> Any:
        return self.fleet.as_tenant(self.tenant, work)

    def each(self, method: str, *args: Any) -> list[Any]:
        """The answer of every path, the tenant's own path first."""
        answers = []
        for path in self.paths:

            async def answer(connection: AsyncConnection, path: SpatialQueries = path) -> Any:
                return await getattr(path, method)(connection, self.tables, *args)

            answers.append(self.ask(answer))
        return answers


@pytest.fixture
def loaded(fleet: FleetDatabase, tenant: ProvisionedTenant) -> tuple[Paths, list[Vehicle]]:
    vehicles = generated_fleet(seed=20240501)
    fleet.add_vehicles(tenant.tenant, vehicles)
    return Paths(fleet, tenant), vehicles


def test_postgis_tenants_take_the_postgis_path(loaded: tuple[Paths, list[Vehicle]]) -> None:
    paths, _ = loaded
    has_postgis = paths.ask(_has_geography)
    assert (paths.paths[0] is POSTGIS) == has_postgis


async def _has_geography(connection: AsyncConnection) -> bool:
    found = await connection.execute(
        text(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND table_name = 'fleet_latest' AND column_name = 'geog'"
        )
    )
    return bool(found.scalar())


def _identical_unless_at_the_cut(
    answers: list[Any], expected: dict[str, float], cut: float
) -> None:
    """Both paths list the same vehicles in the same order, unless one lies at the cut."""
    first, *others = answers
    if any(abs(expected[v] - cut) <= DISTANCE_TOLERANCE_M for v in expected):
        return
    for other in others:
        assert [v.identifier for v in other] == [v.identifier for v in first]
        for a, b in zip(first, other, strict=True):
            assert abs(a.distance_m - b.distance_m) <= DISTANCE_TOLERANCE_M


def test_near_is_the_same_on_every_path(loaded: tuple[Paths, list[Vehicle]]) -> None:
    paths, vehicles = loaded
    places = latest_places(vehicles)

    @PATHS
    @given(at=places_around(list(places.values())), radius=radii)
    def check(at: LonLat, radius: float) -> None:
        lon, lat = at
        expected = distances(places, lat, lon)
        answers = paths.each("near", lat, lon, radius, 1000)
        for answer in answers:
            assert_same_vehicles(expected, answer, within=radius)
        _identical_unless_at_the_cut(answers, expected, radius)

    check()


def test_nearest_is_the_same_on_every_path(loaded: tuple[Paths, list[Vehicle]]) -> None:
    paths, vehicles = loaded
    places = latest_places(vehicles)

    @PATHS
    @given(at=places_around(list(places.values())), n=st.integers(1, 100))
    def check(at: LonLat, n: int) -> None:
        lon, lat = at
        expected = distances(places, lat, lon)
        answers = paths.each("nearest", lat, lon, n)
        for answer in answers:
            assert_same_vehicles(expected, answer, nearest=n)
        cut = sorted(expected.values())[n - 1]
        _identical_unless_at_the_cut(answers, expected, cut)

    check()


def test_nearest_when_the_fleet_is_smaller_than_n(
    fleet: FleetDatabase, tenant: ProvisionedTenant
) -> None:
    paths = Paths(fleet, tenant)
    assert paths.each("nearest", 0.0, 0.0, 5) == [[] for _ in paths.paths]
    vehicles = generated_fleet(seed=3, count=3)
    fleet.add_vehicles(tenant.tenant, vehicles)
    for answer in paths.each("nearest", 89.0, 179.0, 100):
        assert_same_vehicles(distances(latest_places(vehicles), 89.0, 179.0), answer, nearest=100)


def boxes(corners: st.SearchStrategy[LonLat]) -> st.SearchStrategy[Bounds]:
    return st.builds(
        lambda corner, dlat, dlon: Bounds(
            corner[0], corner[1], min(180.0, corner[0] + dlon), min(90.0, corner[1] + dlat)
        ),
        corners,
        st.sampled_from([0.0, 0.01, 1.0, 20.0, 180.0]),
        st.sampled_from([0.0, 0.01, 1.0, 20.0, 360.0]),
    )


def _fixes(vehicles: list[Vehicle]) -> list[LonLat]:
    return [(fix.longitude - 0.005, fix.latitude - 0.005) for v in vehicles for fix in v.fixes]


def _box_edge(lat: float, lon: float, bounds: Bounds) -> bool:
    return (
        min(
            abs(lat - bounds.min_lat),
            abs(lat - bounds.max_lat),
            abs(lon - bounds.min_lon),
            abs(lon - bounds.max_lon),
        )
        <= 1e-9
    )


def test_positions_in_a_box_are_the_same_on_every_path(
    loaded: tuple[Paths, list[Vehicle]],
) -> None:
    paths, vehicles = loaded

    @PATHS
    @given(bounds=boxes(places_around(_fixes(vehicles))))
    def check(bounds: Bounds) -> None:
        edge = set(positions_where(vehicles, lambda lat, lon: _box_edge(lat, lon, bounds)))
        expected = [k for k in positions_where(vehicles, in_box(bounds)) if k not in edge]
        for answer in paths.each("positions_in_box", bounds, WINDOW, 10_000):
            assert not answer.truncated
            assert [k for k in position_keys(answer.positions) if k not in edge] == expected

    check()


def test_positions_in_a_polygon_are_the_same_on_every_path(
    loaded: tuple[Paths, list[Vehicle]],
) -> None:
    paths, vehicles = loaded

    @PATHS
    @given(polygon=star_polygons(centers=places_around(_fixes(vehicles))))
    def check(polygon: list[LonLat]) -> None:
        if len(set(polygon)) < len(polygon):
            return
        edge = set(positions_where(vehicles, lambda lat, lon: near_boundary((lon, lat), polygon)))
        expected = [k for k in positions_where(vehicles, in_polygon(polygon)) if k not in edge]
        for answer in paths.each("positions_in_polygon", polygon, WINDOW, 10_000):
            assert [k for k in position_keys(answer.positions) if k not in edge] == expected

    check()


def test_positions_in_a_circle_are_the_same_on_every_path(
    loaded: tuple[Paths, list[Vehicle]],
) -> None:
    paths, vehicles = loaded

    @PATHS
    @given(at=places_around(_fixes(vehicles)), radius=radii)
    def check(at: LonLat, radius: float) -> None:
        lon, lat = at

        def distance(a: float, b: float) -> float:
            return haversine_m(lat, lon, a, b)

        edge = set(
            positions_where(
                vehicles, lambda a, b: abs(distance(a, b) - radius) <= DISTANCE_TOLERANCE_M
            )
        )
        expected = [
            k
            for k in positions_where(vehicles, lambda a, b: distance(a, b) <= radius)
            if k not in edge
        ]
        for answer in paths.each("positions_in_circle", (lon, lat), radius, WINDOW, 10_000):
            assert [k for k in position_keys(answer.positions) if k not in edge] == expected

    check()


def test_position_answers_are_cut_at_the_limit(loaded: tuple[Paths, list[Vehicle]]) -> None:
    paths, vehicles = loaded
    world = Bounds(-180, -90, 180, 90)
    everything = positions_where(vehicles, in_box(world))
    for answer in paths.each("positions_in_box", world, WINDOW, 7):
        assert answer.truncated
        assert position_keys(answer.positions) == everything[:7]
    for answer in paths.each("positions_in_box", world, WINDOW, len(everything)):
        assert not answer.truncated
        assert position_keys(answer.positions) == everything

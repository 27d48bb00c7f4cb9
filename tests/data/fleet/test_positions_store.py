"""The two ways positions are stored, COPY and one statement over arrays, leave the same rows
and report the same points as new, whatever is stored already and whatever repeats."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.data.fleet.positions import FleetDatabase, Vehicle, insert_vehicles, make_room
from tests.data.fleet.tracking import recent
from tests.support.database import ProvisionedTenant, provision_tenant
from webhost.data.fleet import positions_repository
from webhost.data.fleet.positions_repository import StagedRow
from webhost.db.admin import quote_ident
from webhost.db.driver import driver_of
from webhost.db.urls import PostgresURL

START = recent(minutes_ago=60 * 24 * 9)
examples = itertools.count()
# (vehicle 0..2, seconds after START in steps of a day and a bit: up to 8.3 days, across a
# week's boundary into a second partition)
keys = st.tuples(st.integers(0, 2), st.integers(0, 8).map(lambda n: n * 90_000))


@pytest.fixture(scope="module")
def tenants(dataplane_database: PostgresURL) -> list[ProvisionedTenant]:
    """One tenant per path; each example makes vehicles of its own in both."""
    return [provision_tenant(dataplane_database), provision_tenant(dataplane_database)]


def staged(seq: int, vehicle_id: int, seconds: int, latitude: float) -> StagedRow:
    moment = START + timedelta(seconds=seconds)
    return (seq, vehicle_id, moment, latitude, 13.4, 10.0, 90.0, 30.0, 5.0, 80.0, '{"n": 1}')


async def stored_rows(connection: AsyncConnection, ids: dict[int, int]) -> dict[str, Any]:
    driver = await driver_of(connection)
    index = {vehicle_id: n for n, vehicle_id in ids.items()}
    positions = await driver.fetch(
        "SELECT vehicle_id, device_time, latitude, attributes FROM fleet_positions "
        "WHERE vehicle_id = ANY($1::bigint[]) ORDER BY 1, 2",
        list(ids.values()),
    )
    latest = await driver.fetch(
        "SELECT vehicle_id, device_time, latitude FROM fleet_latest "
        "WHERE vehicle_id = ANY($1::bigint[]) ORDER BY 1",
        list(ids.values()),
    )
    return {
        "positions": [(index[row[0]], *row[1:]) for row in positions],
        "latest": [(index[row[0]], *row[1:]) for row in latest],
    }


def run_path(
    fleet: FleetDatabase,
    tenant: ProvisionedTenant,
    before: list[tuple[int, int]],
    sent: list[tuple[int, int]],
    *,
    copy: bool,
) -> tuple[set[int] | None, set[int], dict[str, Any]]:
    """Vehicles of their own, ``before`` stored, then ``sent`` stored by one path: what COPY
    said (None: a key was there already), which points were new, and the rows left."""
    example = next(examples)

    async def work(connection: AsyncConnection) -> tuple[set[int] | None, set[int], dict[str, Any]]:
        made = await insert_vehicles(
            connection, [Vehicle(f"example-{example}-{n}") for n in range(3)]
        )
        ids = {n: made[f"example-{example}-{n}"] for n in range(3)}
        await make_room(connection, (START + timedelta(seconds=s) for _, s in before + sent))
        driver = await driver_of(connection)
        schema = quote_ident(tenant.tenant.name)
        if before:
            await positions_repository.insert_new(
                driver, schema, [staged(n, ids[v], s, 40.0) for n, (v, s) in enumerate(before)]
            )
        rows = [staged(n, ids[v], s, 50.0 + n / 100) for n, (v, s) in enumerate(sent)]
        copied = None
        if copy:
            copied = await positions_repository.copy_new(driver, schema, rows)
        new = copied
        if new is None:
            new = await positions_repository.insert_new(driver, schema, rows)
        return copied, new, await stored_rows(connection, ids)

    return fleet.as_tenant(tenant.tenant, work)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(before=st.lists(keys, max_size=6), sent=st.lists(keys, min_size=1, max_size=40))
def test_copy_and_the_array_statement_store_the_same_points(
    dataplane_database: PostgresURL,
    tenants: list[ProvisionedTenant],
    before: list[tuple[int, int]],
    sent: list[tuple[int, int]],
) -> None:
    with FleetDatabase(dataplane_database) as fleet:
        copied, by_copy, rows_by_copy = run_path(fleet, tenants[0], before, sent, copy=True)
        _, by_insert, rows_by_insert = run_path(fleet, tenants[1], before, sent, copy=False)
    assert by_copy == by_insert
    assert rows_by_copy == rows_by_insert
    # COPY took the write unless a key was stored before it
    assert (copied is None) == bool(set(before) & set(sent))
    # the first sent of a key is the one kept
    first = {key: n for n, key in reversed(list(enumerate(sent))) if key not in set(before)}
    assert by_insert == set(first.values())

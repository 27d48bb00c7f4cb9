"""Positions in a TimescaleDB hypertable, where the server has TimescaleDB: weekly chunks in the
tenant's own schema, the same ingestion and queries, retention by dropping whole chunks."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.data.fleet.tracking import maintain, point, positions, send, track
from tests.support.database import ProvisionedTenant, provision_tenant
from tests.support.inspect import query
from webhost.data.tenancy import management
from webhost.db.engine import create_engine
from webhost.db.urls import PostgresURL


@pytest.fixture(autouse=True)
def _needs_timescaledb(dataplane_database: PostgresURL) -> None:
    installed = query(
        dataplane_database, "SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'"
    )
    if installed != [(1,)]:
        pytest.skip("the PostgreSQL server has no TimescaleDB")


def chunks(database: PostgresURL, tenant: ProvisionedTenant) -> list[dict[str, Any]]:
    rows = query(
        database,
        "SELECT c.chunk_schema, c.chunk_name, c.range_start, c.range_end, t.tableowner "
        "FROM timescaledb_information.chunks c JOIN pg_tables t "
        "ON t.schemaname = c.chunk_schema AND t.tablename = c.chunk_name "
        "WHERE c.hypertable_schema = $1 AND c.hypertable_name = 'fleet_positions' "
        "ORDER BY c.range_start",
        tenant.tenant.name,
    )
    names = ["schema", "name", "start", "end", "owner"]
    return [dict(zip(names, row, strict=True)) for row in rows]


def test_a_new_tenant_keeps_positions_in_weekly_chunks_of_its_own(
    dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    name = tenant.tenant.name
    assert query(dataplane_database, f'SELECT storage FROM "{name}"._fleet_settings') == [
        ("hypertable",)
    ]
    dimension = query(
        dataplane_database,
        "SELECT column_name, time_interval FROM timescaledb_information.dimensions "
        "WHERE hypertable_schema = $1 AND hypertable_name = 'fleet_positions'",
        name,
    )
    assert dimension == [("device_time", timedelta(days=7))]
    indexes = query(
        dataplane_database,
        "SELECT indexname FROM pg_indexes WHERE schemaname = $1 "
        "AND tablename = 'fleet_positions' ORDER BY 1",
        name,
    )
    expected = {"fleet_positions_pkey", "ix_fleet_positions_location"}
    assert expected <= {row[0] for row in indexes}


def test_batches_late_points_and_duplicates_are_stored_in_chunks_of_the_tenant(
    client: httpx.Client, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    now = datetime.now(UTC)
    late = (now - timedelta(days=45)).replace(microsecond=0)
    many = track("bus-1", 300)  # a batch this size is copied
    assert send(client, many)["accepted"] == 300
    assert send(client, [*many[:5], point("bus-1", late)]) == {
        "accepted": 1,
        "duplicates": 5,
        "rejected": [],
    }
    stored = positions(dataplane_database, tenant)
    assert len(stored) == 301
    made = chunks(dataplane_database, tenant)
    assert len(made) >= 2
    assert {chunk["schema"] for chunk in made} == {tenant.tenant.name}
    assert {chunk["owner"] for chunk in made} == {tenant.tenant.name}
    holding_late = [chunk["name"] for chunk in made if chunk["start"] <= late < chunk["end"]]
    assert [row["partition"] for row in stored if row["device_time"] == late] == holding_late


def test_retention_drops_whole_chunks_and_only_expired_ones(
    client: httpx.Client, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    ages = [70, 50, 33, 20, 3]  # days
    sent = [point("van", now - timedelta(days=age)) for age in ages]
    assert send(client, sent)["accepted"] == len(ages)
    before = chunks(dataplane_database, tenant)
    horizon = now - timedelta(days=30)
    expired = [chunk for chunk in before if chunk["end"] <= horizon]
    done = maintain(dataplane_database, tenant, retention_days=30, now=now)
    assert done.dropped == [chunk["start"].date() for chunk in expired]
    assert len(done.dropped) >= 2  # the chunks of the points 70 and 50 days old
    after = chunks(dataplane_database, tenant)
    assert [chunk["name"] for chunk in after] == [
        chunk["name"] for chunk in before if chunk not in expired
    ]
    # a point stays exactly when its chunk did not end before the horizon: the point 33 days
    # old is past the retention, and stays while its chunk holds younger time
    kept = {row["device_time"] for row in positions(dataplane_database, tenant)}
    for age in ages:
        moment = now - timedelta(days=age)
        (holding,) = [chunk for chunk in before if chunk["start"] <= moment < chunk["end"]]
        assert (moment in kept) == (holding not in expired), age
    assert {now - timedelta(days=age) for age in (70, 50)}.isdisjoint(kept)
    assert maintain(dataplane_database, tenant, retention_days=30, now=now).dropped == []


def test_another_tenant_cannot_read_a_tenants_chunks(
    client: httpx.Client, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    assert send(client, track("bus-1", 3))["accepted"] == 3
    (chunk,) = chunks(dataplane_database, tenant)
    other = provision_tenant(dataplane_database)
    denied = query(
        dataplane_database,
        f"SELECT has_table_privilege('{other.tenant.name}', "
        f"'\"{chunk['schema']}\".\"{chunk['name']}\"', 'SELECT'), "
        f"has_schema_privilege('{other.tenant.name}', '{chunk['schema']}', 'USAGE')",
    )
    assert denied == [(False, False)]


def test_a_tenant_with_positions_before_timescaledb_keeps_its_partitions(
    dataplane_database: PostgresURL,
) -> None:
    older = provision_tenant(dataplane_database, revision="0007")
    empty = provision_tenant(dataplane_database, revision="0007")
    name = older.tenant.name
    week = date(2026, 11, 30)
    query(
        dataplane_database,
        f'CREATE TABLE "{name}".fleet_positions_p20261130 PARTITION OF "{name}".fleet_positions '
        "FOR VALUES FROM ('2026-11-30') TO ('2026-12-07')",
    )
    query(
        dataplane_database,
        f'INSERT INTO "{name}".fleet_positions (vehicle_id, device_time, latitude, longitude) '
        "VALUES (1, $1, 52.5, 13.4)",
        datetime(week.year, week.month, week.day, 12, tzinfo=UTC),
    )

    async def upgrade() -> None:
        engine = create_engine(dataplane_database, pool_size=1)
        try:
            await management.migrate_tenants(engine, [older.tenant, empty.tenant])
        finally:
            await engine.dispose()

    asyncio.run(upgrade())
    storage = {
        tenant.tenant.name: query(
            dataplane_database, f'SELECT storage FROM "{tenant.tenant.name}"._fleet_settings'
        )[0][0]
        for tenant in (older, empty)
    }
    assert storage == {name: "partitions", empty.tenant.name: "hypertable"}
    assert query(dataplane_database, f'SELECT count(*) FROM "{name}".fleet_positions') == [(1,)]

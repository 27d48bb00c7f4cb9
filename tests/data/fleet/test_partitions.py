"""Weekly position partitions: made ahead and on demand, dropped whole past the retention."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.data.fleet.tracking import maintain
from tests.support.database import ProvisionedTenant
from tests.support.inspect import query
from webhost.data.fleet import partitions
from webhost.data.fleet.maintenance import WEEKS_AHEAD
from webhost.data.tenancy.scope import tenant_transaction
from webhost.db.engine import create_engine
from webhost.db.urls import PostgresURL

NOW = datetime(2026, 12, 2, 15, 30, tzinfo=UTC)  # a Wednesday


@pytest.fixture
def dataplane_database(partitions_database: PostgresURL) -> PostgresURL:
    """Tenants of a database without TimescaleDB: weekly partitions are what is tested here."""
    return partitions_database


def test_tenants_of_a_database_without_timescaledb_keep_weekly_partitions(
    dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    settings = query(
        dataplane_database, f'SELECT storage FROM "{tenant.tenant.name}"._fleet_settings'
    )
    assert settings == [("partitions",)]


def ensure(database: PostgresURL, tenant: ProvisionedTenant, weeks: list[date]) -> list[date]:
    async def run() -> list[date]:
        engine = create_engine(database, pool_size=1)
        try:
            async with tenant_transaction(engine, tenant.tenant) as connection:
                return await partitions.ensure_partitions(connection, weeks)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def partition_tables(database: PostgresURL, tenant: ProvisionedTenant) -> list[str]:
    rows = query(
        database,
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace "
        "WHERE p.relname = 'fleet_positions' AND n.nspname = $1 ORDER BY 1",
        tenant.tenant.name,
    )
    return [row[0] for row in rows]


def insert_point(
    database: PostgresURL, tenant: ProvisionedTenant, moment: datetime
) -> tuple[str, ...]:
    schema = f'"{tenant.tenant.name}"'
    rows = query(
        database,
        f"INSERT INTO {schema}.fleet_positions (vehicle_id, device_time, latitude, longitude) "
        "VALUES (1, $1, 52.5, 13.4) RETURNING tableoid::regclass::text",
        moment,
    )
    return rows[0]


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
def test_every_moment_falls_in_the_week_named_by_its_monday(moment: datetime) -> None:
    aware = moment.replace(tzinfo=UTC)
    week = partitions.week_of(aware)
    start, end = partitions.week_bounds(week)
    assert week.weekday() == 0
    assert start <= aware < end
    assert partitions.partition_name(week) == f"fleet_positions_p{week:%Y%m%d}"


def test_maintenance_makes_the_coming_weeks_once(
    dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    done = maintain(dataplane_database, tenant, retention_days=30, now=NOW)
    monday = date(2026, 11, 30)
    expected = [monday + timedelta(weeks=ahead) for ahead in range(WEEKS_AHEAD + 1)]
    assert done.created == expected
    assert done.dropped == []
    again = maintain(dataplane_database, tenant, retention_days=30, now=NOW)
    assert again.created == again.dropped == []
    assert partition_tables(dataplane_database, tenant) == [
        partitions.partition_name(week) for week in expected
    ]


def test_a_late_point_lands_in_the_partition_of_its_own_week(
    dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    late = datetime(2026, 10, 7, 23, 59, 59, tzinfo=UTC)
    assert ensure(dataplane_database, tenant, [partitions.week_of(late)]) == [date(2026, 10, 5)]
    assert ensure(dataplane_database, tenant, [partitions.week_of(late)]) == []
    assert insert_point(dataplane_database, tenant, late) == (
        f"{tenant.tenant.name}.fleet_positions_p20261005",
    )
    # the week's last instant and the next week's first are in different partitions
    boundary = datetime(2026, 10, 12, tzinfo=UTC)
    ensure(dataplane_database, tenant, [partitions.week_of(boundary)])
    assert insert_point(dataplane_database, tenant, boundary)[0].endswith("_p20261012")


def test_retention_drops_whole_weeks_and_only_expired_ones(
    dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    weeks = [date(2026, 10, 26) + timedelta(weeks=n) for n in range(6)]  # to the week of NOW
    ensure(dataplane_database, tenant, weeks)
    for week in weeks:
        insert_point(
            dataplane_database, tenant, partitions.week_bounds(week)[0] + timedelta(hours=1)
        )
    # 30 days before NOW is 2026-11-02 15:30: weeks ending by then go, the one holding it stays
    done = maintain(dataplane_database, tenant, retention_days=30, now=NOW)
    assert done.dropped == [date(2026, 10, 26)]
    remaining = query(
        dataplane_database,
        f'SELECT min(device_time) FROM "{tenant.tenant.name}".fleet_positions',
    )[0][0]
    assert remaining == datetime(2026, 11, 2, 1, tzinfo=UTC)
    later = maintain(dataplane_database, tenant, retention_days=7, now=NOW)
    assert later.dropped == [date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16)]


def test_no_retention_keeps_every_week(
    dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    ensure(dataplane_database, tenant, [date(2020, 1, 6)])
    done = maintain(dataplane_database, tenant, retention_days=None, now=NOW)
    assert done.dropped == []
    assert partitions.partition_name(date(2020, 1, 6)) in partition_tables(
        dataplane_database, tenant
    )

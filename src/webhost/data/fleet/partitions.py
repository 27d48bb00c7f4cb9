"""Weekly range partitions of ``fleet_positions``: named, created and dropped here only.

A partition covers one week from Monday 00:00 UTC, and is named after that day
(``fleet_positions_p20261130``). Ingestion creates the partition of a late point on demand;
the periodic maintenance creates the coming weeks ahead and drops, as whole tables, the weeks
past the plan's retention.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

PARENT = "fleet_positions"
WEEK = timedelta(days=7)
_PARTITION_NAME = re.compile(r"^fleet_positions_p(\d{8})$")


def week_of(moment: datetime) -> date:
    """The Monday (UTC) starting the week that holds ``moment``."""
    day = moment.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


def partition_name(week: date) -> str:
    return f"{PARENT}_p{week:%Y%m%d}"


def week_bounds(week: date) -> tuple[datetime, datetime]:
    start = datetime(week.year, week.month, week.day, tzinfo=UTC)
    return start, start + WEEK


async def ensure_partitions(connection: AsyncConnection, weeks: Iterable[date]) -> list[date]:
    """Create the partitions of these weeks that do not exist yet, in the caller's tenant
    transaction; returns the weeks created. Concurrent creators are serialised by a lock."""
    wanted = sorted(set(weeks))
    if not wanted:
        return []
    existing = await existing_weeks(connection)
    missing = [week for week in wanted if week not in existing]
    if not missing:
        return []
    # one creator at a time per tenant: two racing CREATEs of one partition would fail
    await connection.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || :lock))"),
        {"lock": ":fleet partitions"},  # bound: text() would read ':fleet' as a parameter
    )
    existing = await existing_weeks(connection)
    created = []
    for week in missing:
        if week in existing:
            continue
        start, end = week_bounds(week)
        await connection.exec_driver_sql(
            f"CREATE TABLE {partition_name(week)} PARTITION OF {PARENT} "
            f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
        )
        created.append(week)
    return created


async def existing_weeks(connection: AsyncConnection) -> set[date]:
    rows = await connection.execute(
        text(
            "SELECT child.relname FROM pg_inherits i "
            "JOIN pg_class child ON child.oid = i.inhrelid "
            "JOIN pg_class parent ON parent.oid = i.inhparent "
            "JOIN pg_namespace n ON n.oid = parent.relnamespace "
            "WHERE parent.relname = :parent AND n.nspname = current_schema()"
        ),
        {"parent": PARENT},
    )
    weeks = set()
    for (name,) in rows:
        match = _PARTITION_NAME.fullmatch(name)
        if match:
            weeks.add(datetime.strptime(match.group(1), "%Y%m%d").date())
    return weeks


async def drop_expired(
    connection: AsyncConnection, retention_days: int, now: datetime
) -> list[date]:
    """Drop the partitions whose whole week is older than the retention; returns their weeks.

    Never a DELETE: a week goes only once every point it can hold has expired.
    """
    horizon = now - timedelta(days=retention_days)
    expired = [
        week for week in sorted(await existing_weeks(connection)) if week_bounds(week)[1] <= horizon
    ]
    for week in expired:
        await connection.exec_driver_sql(f"DROP TABLE {partition_name(week)}")
    return expired

"""Periodic fleet maintenance: room for the coming weeks, retention by dropping whole weeks
(partitions, or a hypertable's chunks: storage.py).

Runs on every data plane; two planes on one database take turns per tenant (an advisory lock),
and a tenant whose plan sets no retention keeps its positions.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import structlog
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from webhost.data.fleet import partitions
from webhost.data.fleet.storage import storage_for
from webhost.data.tenancy import repository as directory
from webhost.data.tenancy.limits import TenantLimits
from webhost.data.tenancy.scope import Tenant, tenant_transaction

log = structlog.get_logger(__name__)

WEEKS_AHEAD = 2


@dataclass
class Maintained:
    created: list[date] = field(default_factory=list)
    dropped: list[date] = field(default_factory=list)


async def maintain_tenant(
    engine: AsyncEngine, tenant: Tenant, limits: TenantLimits, now: datetime | None = None
) -> Maintained:
    now = now or datetime.now(UTC)
    done = Maintained()
    async with tenant_transaction(engine, tenant) as connection:
        locked = await connection.execute(
            text("SELECT pg_try_advisory_xact_lock(hashtext(:key))"),
            {"key": f"webhost:fleet-maintenance:{tenant.name}"},
        )
        if not locked.scalar():
            return done
        storage = await storage_for(connection, tenant)
        this_week = partitions.week_of(now)
        done.created = await storage.prepare_weeks(
            connection, [this_week + partitions.WEEK * ahead for ahead in range(WEEKS_AHEAD + 1)]
        )
        if limits.retention_days is not None:
            done.dropped = await storage.drop_expired(connection, limits.retention_days, now)
            # events are small and indexed by time: a bounded delete keeps them to the retention
            await connection.execute(
                text(
                    "DELETE FROM fleet_events WHERE id IN (SELECT id FROM fleet_events "
                    "WHERE event_time < CAST(:now AS timestamptz) - make_interval(days => :days) "
                    "LIMIT 10000)"
                ),
                {"now": now, "days": limits.retention_days},
            )
    return done


async def maintain_periodically(
    engine: AsyncEngine, only: uuid.UUID | None, interval_seconds: float
) -> None:
    """Maintain every tenant the plane serves: at start, then once per interval."""
    while True:
        try:
            async with engine.connect() as connection:
                tenants = await directory.registered_tenants_with_limits(connection, only=only)
            for tenant, limits in tenants:
                done = await maintain_tenant(engine, tenant, limits)
                if done.created or done.dropped:
                    log.info(
                        "fleet.partitions",
                        tenant=tenant.name,
                        created=[str(week) for week in done.created],
                        dropped=[str(week) for week in done.dropped],
                    )
        except (OSError, SQLAlchemyError) as exc:
            log.warning("fleet.maintenance_failed", error=str(exc)[:200])
        await asyncio.sleep(interval_seconds)

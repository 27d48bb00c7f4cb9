"""SQL of the shared hosts and their placements (control database)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from webhost.control.providers.hetzner.models import HostPlacement, HostStatus, SharedHost

# taken (for the transaction) only when no host has room: one new host at a time
_NEW_HOST_LOCK = "webhost shared host creation"


async def placement_of(session: AsyncSession, deployment_id: uuid.UUID) -> SharedHost | None:
    """The host the deployment sits on, if any."""
    return (
        await session.scalars(
            select(SharedHost)
            .join(HostPlacement, HostPlacement.host_id == SharedHost.id)
            .where(HostPlacement.deployment_id == deployment_id)
        )
    ).one_or_none()


async def tenants_on(session: AsyncSession, host_id: str) -> int:
    count = await session.scalar(
        select(func.count()).select_from(HostPlacement).where(HostPlacement.host_id == host_id)
    )
    return int(count or 0)


async def host_with_room(session: AsyncSession) -> SharedHost | None:
    """The oldest host that takes tenants and has room, its row locked until commit.

    Every candidate is locked, in one order, so a concurrent placement waits here and then
    counts the tenants this one added."""
    candidates = (
        await session.scalars(
            select(SharedHost)
            .where(SharedHost.status.in_([HostStatus.READY, HostStatus.CREATING]))
            .order_by(SharedHost.created_at, SharedHost.id)
            .with_for_update()
        )
    ).all()
    for host in candidates:
        if await tenants_on(session, host.id) < host.capacity:
            return host
    return None


async def lock_host_creation(session: AsyncSession) -> None:
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": _NEW_HOST_LOCK}
    )


async def place(session: AsyncSession, deployment_id: uuid.UUID, host: SharedHost) -> None:
    session.add(HostPlacement(deployment_id=deployment_id, host_id=host.id))
    host.empty_since = None
    if host.created_for != deployment_id:
        host.created_for = None  # it has served another tenant: no failed run may remove it
    await session.flush()


async def release(session: AsyncSession, deployment_id: uuid.UUID) -> SharedHost | None:
    """Take the deployment off its host; returns the host, locked, or None when not placed."""
    host = await placement_of(session, deployment_id)
    if host is None:
        return None
    await session.refresh(host, with_for_update=True)
    await session.execute(delete(HostPlacement).where(HostPlacement.deployment_id == deployment_id))
    if await tenants_on(session, host.id) == 0:
        host.empty_since = datetime.now(UTC)
    return host


async def get(session: AsyncSession, host_id: str, *, lock: bool = False) -> SharedHost | None:
    return await session.get(SharedHost, host_id, with_for_update=lock)


async def mark_ready(session: AsyncSession, host_id: str, server_id: int, address: str) -> None:
    await session.execute(
        update(SharedHost)
        .where(SharedHost.id == host_id, SharedHost.status == HostStatus.CREATING)
        .values(status=HostStatus.READY, server_id=server_id, address=address)
    )


async def remove(session: AsyncSession, host_id: str) -> None:
    await session.execute(delete(SharedHost).where(SharedHost.id == host_id))


async def empty_hosts(session: AsyncSession, *, empty_for: timedelta) -> Sequence[SharedHost]:
    """Hosts with no tenant since ``empty_for`` ago (or longer), locked, skipping busy ones."""
    cutoff = datetime.now(UTC) - empty_for
    return (
        await session.scalars(
            select(SharedHost)
            .where(SharedHost.empty_since.is_not(None), SharedHost.empty_since <= cutoff)
            .order_by(SharedHost.empty_since)
            .with_for_update(skip_locked=True)
        )
    ).all()


async def all_hosts(session: AsyncSession) -> Sequence[SharedHost]:
    return (await session.scalars(select(SharedHost).order_by(SharedHost.created_at))).all()


async def made_for(session: AsyncSession, deployment_id: uuid.UUID) -> SharedHost | None:
    """The host the deployment's placement created, locked."""
    return (
        await session.scalars(
            select(SharedHost)
            .where(SharedHost.created_for == deployment_id)
            .order_by(SharedHost.created_at.desc())
            .with_for_update()
        )
    ).first()

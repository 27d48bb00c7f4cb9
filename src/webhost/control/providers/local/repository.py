"""SQL of the local provider's process table (control database)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import delete, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from webhost.control.providers.local.models import DesiredState, LocalProcess

CHANGES_CHANNEL = "webhost_local_processes"


async def reserved_ports(session: AsyncSession) -> set[int]:
    return set((await session.scalars(select(LocalProcess.port))).all())


async def find(session: AsyncSession, deployment_id: uuid.UUID) -> LocalProcess | None:
    return await session.get(LocalProcess, deployment_id)


async def reserve(
    session: AsyncSession, deployment_id: uuid.UUID, port: int
) -> LocalProcess | None:
    """Claim the port for the deployment; None when another deployment holds it."""
    statement = (
        insert(LocalProcess)
        .values(
            deployment_id=deployment_id,
            port=port,
            desired_state=DesiredState.STOPPED,
            sealed_environment=b"",
            restarts=0,
        )
        .on_conflict_do_nothing()
        .returning(LocalProcess.deployment_id)
    )
    if (await session.execute(statement)).scalar_one_or_none() is None:
        return None
    return await session.get(LocalProcess, deployment_id)


async def set_desired(
    session: AsyncSession,
    deployment_id: uuid.UUID,
    state: DesiredState,
    sealed_environment: bytes | None = None,
) -> None:
    values: dict[str, object] = {"desired_state": state}
    if sealed_environment is not None:
        values["sealed_environment"] = sealed_environment
    await session.execute(
        update(LocalProcess).where(LocalProcess.deployment_id == deployment_id).values(**values)
    )
    await notify_change(session)


async def release(session: AsyncSession, deployment_id: uuid.UUID) -> None:
    await session.execute(delete(LocalProcess).where(LocalProcess.deployment_id == deployment_id))
    await notify_change(session)


async def notify_change(session: AsyncSession) -> None:
    await session.execute(text(f"NOTIFY {CHANGES_CHANNEL}"))


async def all_processes(session: AsyncSession) -> list[LocalProcess]:
    return list((await session.scalars(select(LocalProcess))).all())


async def record_start(session: AsyncSession, deployment_id: uuid.UUID, pid: int) -> None:
    await session.execute(
        update(LocalProcess)
        .where(LocalProcess.deployment_id == deployment_id)
        .values(pid=pid, last_started_at=datetime.now(UTC), last_error=None)
    )


async def record_exit(
    session: AsyncSession, deployment_id: uuid.UUID, exit_code: int | None, *, crashed: bool
) -> None:
    values: dict[str, object] = {"pid": None, "last_exit_code": exit_code}
    if crashed:
        values["restarts"] = LocalProcess.restarts + 1
        values["last_error"] = f"data plane exited with code {exit_code}"
    await session.execute(
        update(LocalProcess).where(LocalProcess.deployment_id == deployment_id).values(**values)
    )

"""The key outbox's SQL: rows recorded with a key change, read and marked by the courier."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import exists, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from webhost.control.deployments.models import Deployment, DeploymentStatus
from webhost.control.keys.models import ApiKey, DeliveryAction, KeyDelivery


async def record(
    session: AsyncSession, deployment_id: uuid.UUID, key_id: uuid.UUID, action: DeliveryAction
) -> None:
    session.add(KeyDelivery(deployment_id=deployment_id, key_id=key_id, action=action))
    await session.flush()


async def hold_deliveries_of(session: AsyncSession, deployment_id: uuid.UUID) -> None:
    """One courier at a time per deployment, so its changes arrive in the order they were made."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:name))"),
        {"name": f"key-deliveries:{deployment_id}"},
    )


async def pending(
    session: AsyncSession, deployment_id: uuid.UUID
) -> list[tuple[KeyDelivery, ApiKey]]:
    rows = await session.execute(
        select(KeyDelivery, ApiKey)
        .join(ApiKey, ApiKey.id == KeyDelivery.key_id)
        .where(KeyDelivery.deployment_id == deployment_id, KeyDelivery.delivered_at.is_(None))
        .order_by(KeyDelivery.id)
    )
    return [(delivery, key) for delivery, key in rows.all()]


async def has_pending(session: AsyncSession, deployment_id: uuid.UUID) -> bool:
    found = await session.scalar(
        select(
            exists().where(
                KeyDelivery.deployment_id == deployment_id, KeyDelivery.delivered_at.is_(None)
            )
        )
    )
    return bool(found)


async def deployments_with_stale_deliveries(
    session: AsyncSession, older_than: timedelta
) -> list[uuid.UUID]:
    """Active deployments with a change left undelivered (its request died, or the plane was
    unreachable) for longer than ``older_than``."""
    cutoff = func.now() - older_than
    rows = await session.scalars(
        select(KeyDelivery.deployment_id)
        .join(Deployment, Deployment.id == KeyDelivery.deployment_id)
        .where(
            KeyDelivery.delivered_at.is_(None),
            KeyDelivery.created_at < cutoff,
            Deployment.status.in_([DeploymentStatus.ACTIVE, DeploymentStatus.SUSPENDED]),
        )
        .distinct()
    )
    return list(rows.all())

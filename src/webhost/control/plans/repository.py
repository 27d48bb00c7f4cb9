from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from webhost.control.plans.models import Plan


async def list_plans(session: AsyncSession, *, include_hidden: bool = False) -> list[Plan]:
    statement = select(Plan).order_by(Plan.sort_order, Plan.price_cents)
    if not include_hidden:
        statement = statement.where(Plan.is_public.is_(True))
    return list((await session.scalars(statement)).all())


async def get(session: AsyncSession, plan_id: uuid.UUID) -> Plan:
    plan: Plan = await session.get_one(Plan, plan_id)
    return plan


async def get_by_stripe_price(session: AsyncSession, price_id: str) -> Plan | None:
    plan: Plan | None = await session.scalar(select(Plan).where(Plan.stripe_price_id == price_id))
    return plan


async def get_by_slug(session: AsyncSession, slug: str) -> Plan | None:
    plan: Plan | None = await session.scalar(select(Plan).where(Plan.slug == slug))
    return plan


async def add(session: AsyncSession, plan: Plan) -> Plan:
    session.add(plan)
    await session.flush()
    return plan

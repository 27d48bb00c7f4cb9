"""Subscriptions through billing's service, on a control database built by the migrations."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.database import create_fresh_database
from tests.support.factories import unique_email
from webhost.control.accounts import repository as accounts_repository
from webhost.control.accounts import service as accounts
from webhost.control.accounts.models import Account, Organization
from webhost.control.billing import service as billing
from webhost.control.billing.models import SubscriptionStatus
from webhost.control.plans import service as plans
from webhost.db import migrate
from webhost.db.engine import create_engine, create_session_factory
from webhost.db.urls import PostgresURL

Scenario = Callable[[AsyncSession], Awaitable[None]]


@pytest.fixture(scope="module")
def control_database(postgres_server: PostgresURL) -> PostgresURL:
    database = create_fresh_database(postgres_server, "billing")

    async def build() -> None:
        engine = create_engine(database, pool_size=1)
        try:
            async with engine.begin() as connection:
                await migrate.upgrade(connection, migrate.CONTROL)
        finally:
            await engine.dispose()

    asyncio.run(build())
    return database


def run_rolled_back(database: PostgresURL, scenario: Scenario) -> None:
    """The scenario in one transaction that is rolled back, so tests leave nothing behind."""

    async def run() -> None:
        engine = create_engine(database, pool_size=1)
        try:
            async with create_session_factory(engine)() as session:
                try:
                    await scenario(session)
                finally:
                    await session.rollback()
        finally:
            await engine.dispose()

    asyncio.run(run())


async def create_organization(session: AsyncSession, name: str = "Engines") -> Organization:
    owner = await accounts_repository.add_account(
        session, Account(email=unique_email("billing"), name="Ada")
    )
    return await accounts.create_organization(session, name=name, owner=owner)


async def stored_plan_id(session: AsyncSession, subscription_id: uuid.UUID) -> uuid.UUID:
    """The plan the subscriptions table holds, read past the session's identity map."""
    found = await session.scalar(
        text("SELECT plan_id FROM subscriptions WHERE id = :id"), {"id": subscription_id}
    )
    assert isinstance(found, uuid.UUID)
    return found


def test_a_started_subscription_is_active_on_its_plan(control_database: PostgresURL) -> None:
    async def scenario(session: AsyncSession) -> None:
        organization = await create_organization(session)
        starter = await plans.require_plan(session, "starter")
        started = await billing.start_subscription(session, organization, starter)
        assert (started.organization_id, started.plan_id) == (organization.id, starter.id)
        assert started.status == SubscriptionStatus.ACTIVE
        assert await stored_plan_id(session, started.id) == starter.id
        assert await billing.subscription_of(session, organization.id) is started

    run_rolled_back(control_database, scenario)


def test_each_organization_has_its_own_subscription(control_database: PostgresURL) -> None:
    async def scenario(session: AsyncSession) -> None:
        hobby = await plans.require_plan(session, "hobby")
        business = await plans.require_plan(session, "business")
        first = await create_organization(session, "First")
        second = await create_organization(session, "Second")
        await billing.start_subscription(session, first, hobby)
        await billing.start_subscription(session, second, business)
        of_first = await billing.subscription_of(session, first.id)
        of_second = await billing.subscription_of(session, second.id)
        assert of_first is not None
        assert of_second is not None
        assert (of_first.plan_id, of_second.plan_id) == (hobby.id, business.id)

    run_rolled_back(control_database, scenario)


def test_changing_the_plan_keeps_the_subscription(control_database: PostgresURL) -> None:
    async def scenario(session: AsyncSession) -> None:
        organization = await create_organization(session)
        hobby = await plans.require_plan(session, "hobby")
        professional = await plans.require_plan(session, "professional")
        started = await billing.start_subscription(session, organization, hobby)
        changed = await billing.change_plan(session, started, professional)
        assert (changed.id, changed.plan_id) == (started.id, professional.id)
        assert changed.status == SubscriptionStatus.ACTIVE
        assert await stored_plan_id(session, started.id) == professional.id
        current = await billing.subscription_of(session, organization.id)
        assert current is not None
        assert (current.id, current.plan_id) == (started.id, professional.id)

    run_rolled_back(control_database, scenario)


def test_an_organization_without_a_subscription_has_none(control_database: PostgresURL) -> None:
    async def scenario(session: AsyncSession) -> None:
        organization = await create_organization(session)
        assert await billing.subscription_of(session, organization.id) is None
        assert await billing.subscription_of(session, uuid.uuid4()) is None

    run_rolled_back(control_database, scenario)


def test_the_latest_subscription_is_the_organizations(control_database: PostgresURL) -> None:
    async def scenario(session: AsyncSession) -> None:
        organization = await create_organization(session)
        hobby = await plans.require_plan(session, "hobby")
        starter = await plans.require_plan(session, "starter")
        await billing.start_subscription(session, organization, hobby)
        latest = await billing.start_subscription(session, organization, starter)
        assert await billing.subscription_of(session, organization.id) is latest

    run_rolled_back(control_database, scenario)

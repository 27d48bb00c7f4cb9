"""A password is whatever was typed, surrounding spaces included, at signup and at login alike."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from tests.support.dashboard import DashboardUser, csrf_from
from tests.support.database import create_fresh_database
from tests.support.factories import sign_up, unique_email
from tests.support.logins import fresh_address, log_in
from tests.support.platform import PlatformThread
from webhost.control.accounts import service as accounts
from webhost.control.accounts.login_policy import ThrottlePolicy
from webhost.control.accounts.login_throttle import LoginThrottle
from webhost.control.accounts.models import Account
from webhost.db import migrate
from webhost.db.engine import create_engine, create_session_factory
from webhost.db.urls import PostgresURL
from webhost.errors import Unauthorized
from webhost.security.passwords import Passwords

# any characters but lone surrogates (no encoding carries them), often padded with whitespace
TYPED = st.characters(exclude_categories=("Cs",))
PADDING = st.text(" \t\n\r\u00a0\u2003\u3000", max_size=3)
PASSWORDS = st.one_of(
    st.tuples(PADDING, st.text(TYPED, min_size=6, max_size=40), PADDING).map("".join),
    st.text(TYPED, min_size=8, max_size=60),
).filter(lambda password: len(password) >= 8)

PADDED = "  correct horse battery  "


@settings(max_examples=10, deadline=None)
@given(password=PASSWORDS)
@example(password=PADDED)
@example(password="\t\ttabbed in and out\n")
@example(password="\u00a0p\u00e4ssw\u00f6rd \u5bc6\u7801 \U0001f511\u3000")
def test_any_password_signed_up_logs_in_as_typed(platform: PlatformThread, password: str) -> None:
    customer = sign_up(platform.control_url, password=password)
    customer.client.close()
    address = fresh_address()
    assert log_in(platform.control_url, customer.email, password, address).status_code == 200
    if password.strip() != password:
        stripped = log_in(platform.control_url, customer.email, password.strip(), address)
        assert stripped.status_code == 401


def test_a_padded_password_works_in_the_dashboard_forms(platform: PlatformThread) -> None:
    email = unique_email("padded")
    with DashboardUser(platform.control_url) as browser:
        assert browser.sign_up(email=email, password=PADDED).status_code == 303
    with DashboardUser(platform.control_url) as browser:
        browser.client.headers["X-Forwarded-For"] = fresh_address()
        stripped = browser.submit("/login", "/login", {"email": email, "password": PADDED.strip()})
        assert stripped.status_code == 401
        page = browser.get("/login")
        typed = browser.client.post(
            "/login", data={"csrf_token": csrf_from(page.text), "email": email, "password": PADDED}
        )
        assert typed.status_code == 303
    assert log_in(platform.control_url, email, PADDED, fresh_address()).status_code == 200


def test_an_account_whose_signup_stripped_the_password_logs_in_with_it_as_typed(
    postgres_server: PostgresURL,
) -> None:
    """Accounts older than migration 0004 may hold the stripped password: the typed one opens
    them, and from then on only the typed one does."""
    database = create_fresh_database(postgres_server, "stripped")
    passwords = Passwords(concurrency=1, queue_limit=4)
    lenient = ThrottlePolicy(
        free_failures=100,
        first_wait=timedelta(seconds=1),
        longest_wait=timedelta(seconds=1),
        memory=timedelta(0),
    )

    async def scenario() -> None:
        engine = create_engine(database, pool_size=2)
        sessions = create_session_factory(engine)
        throttle = LoginThrottle(sessions, account_policy=lenient, address_policy=lenient)
        try:
            async with engine.begin() as connection:
                await migrate.upgrade(connection, migrate.CONTROL, revision="0003")
            emails = {"early": unique_email("early"), "later": unique_email("later")}
            async with engine.begin() as connection:
                for email in emails.values():
                    await connection.execute(
                        text(
                            "INSERT INTO accounts (id, email, name, password_hash, is_operator) "
                            "VALUES (:id, :email, 'Early', :hash, false)"
                        ),
                        {
                            "id": uuid.uuid4(),
                            "email": email,
                            "hash": await passwords.hash(PADDED.strip()),
                        },
                    )
            async with engine.begin() as connection:
                await migrate.upgrade(connection, migrate.CONTROL)

            async def attempt(email: str, password: str) -> bool:
                async with sessions.begin() as session:
                    try:
                        await accounts.login(
                            session, passwords, throttle, email, password, address="192.0.2.1"
                        )
                    except Unauthorized:
                        return False
                    return True

            async def stored(email: str) -> Account:
                async with sessions() as session:
                    account = await session.scalar(select(Account).where(Account.email == email))
                    assert account is not None
                    return account

            assert (await stored(emails["early"])).password_maybe_stripped
            assert not await attempt(emails["early"], "  wrong horse battery  ")
            assert (await stored(emails["early"])).password_maybe_stripped

            assert await attempt(emails["early"], PADDED)
            assert not (await stored(emails["early"])).password_maybe_stripped
            assert await attempt(emails["early"], PADDED)
            assert not await attempt(emails["early"], PADDED.strip()), "now only as typed"

            # typing it without the spaces, as always, works and clears the mark too
            assert await attempt(emails["later"], PADDED.strip())
            assert not (await stored(emails["later"])).password_maybe_stripped
        finally:
            await engine.dispose()

    try:
        asyncio.run(scenario())
    finally:
        passwords.close()


def test_new_accounts_are_not_marked_as_stripped(platform: PlatformThread) -> None:
    customer = sign_up(platform.control_url, password=PADDED)
    customer.client.close()

    async def mark() -> bool:
        assert platform.runtime is not None
        assert platform.runtime.platform is not None
        async with platform.runtime.platform.sessions() as session:
            account = await session.scalar(select(Account).where(Account.email == customer.email))
            assert account is not None
            return account.password_maybe_stripped

    assert platform.call(mark) is False

"""argon2 runs on threads: the event loop keeps serving, and overload is refused, not queued."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webhost.errors import ServiceBusy
from webhost.security.passwords import Passwords

# passwords as people type them: any characters but lone surrogates, which no encoding carries
TYPED = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=40)


def make_passwords(concurrency: int = 2, queue_limit: int = 16) -> Passwords:
    return Passwords(concurrency=concurrency, queue_limit=queue_limit)


@pytest.fixture(scope="module")
def shared_passwords() -> Iterator[Passwords]:
    passwords = make_passwords()
    yield passwords
    passwords.close()


@settings(max_examples=6, deadline=None)
@given(password=TYPED, other=TYPED)
def test_a_hash_matches_its_password_exactly(
    shared_passwords: Passwords, password: str, other: str
) -> None:
    async def check() -> None:
        stored = await shared_passwords.hash(password)
        assert await shared_passwords.verify(stored, password)
        assert await shared_passwords.verify(stored, other) is (other == password)

    asyncio.run(check())


def test_an_unknown_account_costs_one_real_check_and_never_matches() -> None:
    passwords = make_passwords()

    async def check() -> None:
        before = passwords.operations
        assert await passwords.verify(None, "any password at all") is False
        assert passwords.operations == before + 1

    try:
        asyncio.run(check())
    finally:
        passwords.close()


def test_the_event_loop_keeps_running_while_passwords_are_checked() -> None:
    passwords = make_passwords()

    async def ticks_during_checks() -> int:
        stored = await passwords.hash("correct horse battery")
        checks = asyncio.gather(*(passwords.verify(stored, f"guess {n}") for n in range(4)))
        ticks = 0
        while not checks.done():
            await asyncio.sleep(0.001)
            ticks += 1
        assert await checks == [False] * 4
        return ticks

    try:
        # four argon2 checks take far longer than a few milliseconds: run on the loop, they
        # would let it tick once at most
        assert asyncio.run(ticks_during_checks()) >= 5
    finally:
        passwords.close()


def test_callers_beyond_the_threads_and_the_queue_are_turned_away() -> None:
    passwords = make_passwords(concurrency=1, queue_limit=1)

    async def three_at_once() -> list[bool | BaseException]:
        stored = await passwords.hash("correct horse battery")
        return await asyncio.gather(
            *(passwords.verify(stored, "correct horse battery") for _ in range(3)),
            return_exceptions=True,
        )

    try:
        first, second, third = asyncio.run(three_at_once())
    finally:
        passwords.close()
    assert first is True
    assert second is True, "one caller may wait for the thread"
    assert isinstance(third, ServiceBusy)
    assert third.status_code == 503
    assert third.headers == {"Retry-After": "1"}


def test_a_cancelled_waiter_gives_its_place_back() -> None:
    passwords = make_passwords(concurrency=1, queue_limit=1)

    async def cancel_then_check() -> bool:
        stored = await passwords.hash("correct horse battery")
        running = asyncio.create_task(passwords.verify(stored, "one"))
        waiting = asyncio.create_task(passwords.verify(stored, "two"))
        await asyncio.sleep(0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await running
        return await passwords.verify(stored, "correct horse battery")

    try:
        assert asyncio.run(cancel_then_check()) is True
    finally:
        passwords.close()

"""Waiting for something that happens elsewhere (another thread, process or server)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T],
    *,
    timeout: float = 20,
    interval: float = 0.05,
    message: str = "condition",
) -> T:
    """Poll until ``condition`` returns something truthy and return it; the deadline only
    bounds a failure, it is never what a test asserts."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}; last saw {result!r}")
        time.sleep(interval)


async def eventually(
    condition: Callable[[], Awaitable[T]],
    *,
    within: float = 20,
    interval: float = 0.02,
    message: str = "condition",
) -> T:
    """``wait_until`` for coroutines: await ``condition`` until it gives something truthy."""
    deadline = time.monotonic() + within
    while True:
        result = await condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}; last saw {result!r}")
        await asyncio.sleep(interval)

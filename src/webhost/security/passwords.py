"""Password hashing with argon2id, on worker threads so the event loop keeps serving.

An argon2 call takes a sizeable slice of a CPU core. On the event loop it would stall every other
request of the process (the shared data plane included), so calls run on a few threads
(argon2-cffi releases the GIL while it hashes). Calls beyond those threads wait in a bounded
queue; past it they are refused with ``ServiceBusy`` (503 + Retry-After) instead of piling up.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from webhost.errors import ServiceBusy

T = TypeVar("T")

BUSY_RETRY_SECONDS = 1


class Passwords:
    def __init__(self, *, concurrency: int, queue_limit: int) -> None:
        self._hasher = PasswordHasher()
        self._threads = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="argon2")
        # the semaphore, not the executor's own queue, holds waiters: a cancelled waiter leaves
        self._slots = asyncio.Semaphore(concurrency)
        self._capacity = concurrency + queue_limit
        self._admitted = 0
        # argon2 calls made so far: what login traffic costs, and proof that refusals cost none
        self.operations = 0
        # checking unknown emails against a real hash makes them as slow as wrong passwords
        self._unknown_account_hash = self._hasher.hash(secrets.token_urlsafe(24))

    async def hash(self, password: str) -> str:
        return await self._run(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches; ``None`` (no such account) costs what a real check does."""
        matched = await self._run(
            self._matches, password_hash or self._unknown_account_hash, password
        )
        return matched and password_hash is not None

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)

    def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)

    def _matches(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    async def _run(self, work: Callable[..., T], *args: str) -> T:
        if self._admitted >= self._capacity:
            raise ServiceBusy(
                "too many password checks in progress: try again in a moment",
                retry_after_seconds=BUSY_RETRY_SECONDS,
            )
        self._admitted += 1
        try:
            async with self._slots:
                self.operations += 1
                loop = asyncio.get_running_loop()
                return await loop.run_in_executor(self._threads, work, *args)
        finally:
            self._admitted -= 1

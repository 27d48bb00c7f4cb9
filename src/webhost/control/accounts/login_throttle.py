"""Login throttling per account and per client address, with the counts in PostgreSQL.

Every control-plane process (``webhost up``, more of them later) reads and writes the same
records, so an attacker gains nothing by spreading attempts over processes. An attempt is
counted as failed before its password is checked, under a row lock: parallel guesses cannot slip
past the limit, and a refused attempt costs one short transaction, never an argon2 check. A
successful login clears its account's record and takes its count back from the address.

The records have transactions of their own: a failed login's request rolls back, and concurrent
requests must see a count at once, not when the request that made it ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from webhost.config import Settings
from webhost.control.accounts import repository
from webhost.control.accounts.login_policy import (
    FailureRecord,
    ThrottlePolicy,
    in_words,
    whole_seconds,
)
from webhost.control.accounts.models import (
    THROTTLE_SUBJECT_LENGTH,
    LoginFailures,
    ThrottleScope,
)
from webhost.errors import TooManyRequests

_REFUSALS = {
    ThrottleScope.ACCOUNT: "too many failed logins for this account",
    ThrottleScope.ADDRESS: "too many failed logins from your address",
}


@dataclass(frozen=True)
class LoginAttempt:
    """A login under way, already counted as failed for its account and its address."""

    email: str
    address: str


class LoginThrottle:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        account_policy: ThrottlePolicy,
        address_policy: ThrottlePolicy,
    ) -> None:
        self._sessions = sessions
        self._policies = {
            ThrottleScope.ACCOUNT: account_policy,
            ThrottleScope.ADDRESS: address_policy,
        }

    @classmethod
    def from_settings(
        cls, settings: Settings, sessions: async_sessionmaker[AsyncSession]
    ) -> LoginThrottle:
        def policy(free_failures: int) -> ThrottlePolicy:
            return ThrottlePolicy(
                free_failures=free_failures,
                first_wait=timedelta(seconds=settings.login_throttle_seconds),
                longest_wait=timedelta(seconds=settings.login_lockout_max_seconds),
                memory=timedelta(seconds=settings.login_failure_window_seconds),
            )

        return cls(
            sessions,
            account_policy=policy(settings.login_account_failures),
            address_policy=policy(settings.login_address_failures),
        )

    async def begin(self, email: str, address: str) -> LoginAttempt:
        """Count the attempt, or refuse it with 429 and Retry-After while either must wait."""
        attempt = LoginAttempt(email=email, address=address[:THROTTLE_SUBJECT_LENGTH])
        subjects = {
            (ThrottleScope.ACCOUNT.value, attempt.email): ThrottleScope.ACCOUNT,
            (ThrottleScope.ADDRESS.value, attempt.address): ThrottleScope.ADDRESS,
        }
        async with self._sessions.begin() as session:
            rows = await repository.lock_login_failures(session, list(subjects))
            # read once the locks are held, so attempts on a record see time move forward
            now = await repository.database_clock(session)
            # only after our own locks are held: cleaning skips locked rows and never waits
            await repository.forget_login_failures(session, now, keep=list(subjects))
            scoped = [(subjects[(row.scope, row.subject)], row) for row in rows]
            waits = [
                (self._policies[scope].retry_after(_record_of(row), now), scope)
                for scope, row in scoped
            ]
            wait, waiting_scope = max(waits)
            if not wait:
                for scope, row in scoped:
                    self._count_failure(self._policies[scope], row, now)
        if wait:
            seconds = whole_seconds(wait)
            raise TooManyRequests(
                f"{_REFUSALS[waiting_scope]}: try again in {in_words(seconds)}",
                retry_after_seconds=seconds,
            )
        return attempt

    async def succeeded(self, attempt: LoginAttempt) -> None:
        async with self._sessions.begin() as session:
            await repository.clear_login_failures(session, ThrottleScope.ACCOUNT, attempt.email)
            await repository.forgive_login_failure(session, ThrottleScope.ADDRESS, attempt.address)

    async def abandoned(self, attempt: LoginAttempt) -> None:
        """The password was never checked (the server was busy): the attempt does not count."""
        async with self._sessions.begin() as session:
            await repository.forgive_login_failure(session, ThrottleScope.ACCOUNT, attempt.email)
            await repository.forgive_login_failure(session, ThrottleScope.ADDRESS, attempt.address)

    @staticmethod
    def _count_failure(policy: ThrottlePolicy, row: LoginFailures, now: datetime) -> None:
        counted = policy.after_failure(_record_of(row), now)
        row.failures = counted.failures
        row.last_failure_at = counted.last_failure_at
        row.forget_at = policy.forgotten_at(counted)


def _record_of(row: LoginFailures) -> FailureRecord | None:
    if row.failures == 0:
        return None
    return FailureRecord(failures=row.failures, last_failure_at=row.last_failure_at)

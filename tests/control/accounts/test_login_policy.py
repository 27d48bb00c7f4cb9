"""The throttle policy as a pure function of the failure history and the time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from pydantic import ValidationError

from webhost.config import Settings
from webhost.control.accounts.login_policy import (
    FailureRecord,
    ThrottlePolicy,
    in_words,
    whole_seconds,
)

START = datetime(2030, 1, 1, tzinfo=UTC)
MILLISECOND = timedelta(milliseconds=1)

POLICIES = st.builds(
    lambda free, first, doublings, memory: ThrottlePolicy(
        free_failures=free,
        first_wait=timedelta(seconds=first),
        longest_wait=timedelta(seconds=first * 2**doublings),
        memory=timedelta(seconds=memory),
    ),
    free=st.integers(1, 8),
    first=st.integers(1, 120),
    doublings=st.integers(0, 8),
    memory=st.integers(0, 3600),
)


@given(policy=POLICIES, failures=st.integers(0, 200))
def test_waits_start_after_the_free_failures_and_double_up_to_the_lockout(
    policy: ThrottlePolicy, failures: int
) -> None:
    wait = policy.wait_after(failures)
    assert (wait == timedelta(0)) is (failures < policy.free_failures)
    assert wait <= policy.wait_after(failures + 1) <= policy.longest_wait
    if failures >= policy.free_failures:
        assert wait >= policy.first_wait
        assert policy.wait_after(failures + 1) == min(2 * wait, policy.longest_wait)


@given(seconds=st.floats(0, 10**7, allow_nan=False))
def test_retry_after_is_whole_seconds_rounded_up(seconds: float) -> None:
    stated = whole_seconds(timedelta(seconds=seconds))
    assert stated >= 1
    assert stated >= seconds
    assert stated - seconds < 1 or seconds < 1
    assert in_words(stated)


def test_a_lockout_shorter_than_the_first_wait_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="login_lockout_max_seconds must be at least"):
        Settings(login_throttle_seconds=60, login_lockout_max_seconds=30)


class OneSubject(RuleBasedStateMachine):
    """Attempts on one account (or address) over time, the way LoginThrottle drives the policy:
    a refused attempt changes nothing, an admitted one is counted before the password check,
    and a success clears the record. Attempts that queued on the record's lock may read a clock
    a little behind the failure recorded just before them."""

    @initialize(policy=POLICIES)
    def start(self, policy: ThrottlePolicy) -> None:
        self.policy = policy
        self.now = START
        self.record: FailureRecord | None = None
        # admitted failures since the record last started afresh: (recorded time, failures
        # before it)
        self.run: list[tuple[datetime, int]] = []

    @rule(seconds=st.integers(0, 8000))
    def time_passes(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)

    @rule(milliseconds=st.integers(1, 999))
    def a_moment_passes(self, milliseconds: int) -> None:
        self.now += timedelta(milliseconds=milliseconds)

    @rule()
    def wait_exactly_as_told(self) -> None:
        self.now += self.policy.retry_after(self.record, self.now)

    @rule()
    def wrong_password(self) -> None:
        wait = self.policy.retry_after(self.record, self.now)
        if wait:
            # Retry-After is exact: waiting it out is enough, and needed
            later = self.now + wait
            assert self.policy.retry_after(self.record, later) == timedelta(0)
            assert self.policy.retry_after(self.record, later - MILLISECOND) > timedelta(0)
        self._attempt(self.now)

    @rule(lag=st.integers(1, 2000))
    def wrong_password_read_on_a_lagging_clock(self, lag: int) -> None:
        self._attempt(self.now - timedelta(milliseconds=lag))

    @rule()
    def right_password(self) -> None:
        if not self.policy.retry_after(self.record, self.now):
            self.record = None
            self.run = []

    def _attempt(self, clock: datetime) -> None:
        wait = self.policy.retry_after(self.record, clock)
        if wait:
            assert self.record is not None
            assert wait <= self.policy.wait_after(self.record.failures) <= self.policy.longest_wait
            return
        before = self.record
        self.record = self.policy.after_failure(before, clock)
        if self.record.failures == 1:
            if before is not None:
                assert clock >= self.policy.forgotten_at(before), "forgotten too early"
            self.run = []
        else:
            assert before is not None
            assert self.record.failures == before.failures + 1
        self.run.append((self.record.last_failure_at, self.record.failures - 1))

    @invariant()
    def free_failures_never_wait(self) -> None:
        if self.record is None or self.record.failures < self.policy.free_failures:
            assert self.policy.retry_after(self.record, self.now) == timedelta(0)
            assert self.policy.retry_after(self.record, self.now - timedelta(seconds=2)) == (
                timedelta(0)
            )

    @invariant()
    def admitted_guesses_are_spaced_by_the_waits(self) -> None:
        """The bound on an attacker: once the free failures are spent, consecutive guesses are
        at least the (doubling) wait apart."""
        for (earlier, _), (later, failures_before) in zip(self.run, self.run[1:], strict=False):
            assert later - earlier >= self.policy.wait_after(failures_before)

    @invariant()
    def the_record_counts_the_current_run(self) -> None:
        assert (self.record.failures if self.record else 0) == len(self.run)


OneSubject.TestCase.settings = settings(max_examples=200, stateful_step_count=40, deadline=None)
test_one_subject = OneSubject.TestCase

"""Group commit on its own: who goes together, who fails alone, and that no answer is lost."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webhost.data.group_commit import TenantGroupCommitter
from webhost.data.tenancy.scope import Tenant, tenant_name_for
from webhost.errors import ServiceBusy, WebHostError


def a_tenant() -> Tenant:
    tenant_id = uuid.uuid4()
    return Tenant(id=tenant_id, name=tenant_name_for(tenant_id))


class Ledger:
    """A write that records its groups; ``broken`` submissions break any group they are in,
    ``busy`` ones make the write refuse the whole group."""

    def __init__(
        self, *, broken: Callable[[str], bool] = lambda _name: False, busy: str | None = None
    ) -> None:
        self.groups: list[list[str]] = []
        self.broken = broken
        self.busy = busy
        self.pause = asyncio.Event()
        self.pause.set()

    async def write(self, tenant: Tenant, group: Sequence[str]) -> list[str]:
        await self.pause.wait()
        await asyncio.sleep(0)
        if self.busy in group:
            raise ServiceBusy("storage unavailable", retry_after_seconds=1)
        if any(self.broken(submission) for submission in group):
            raise RuntimeError("a submission the database refuses")
        self.groups.append(list(group))
        return [f"{tenant.name}:{submission}" for submission in group]


def run(scenario: Coroutine[Any, Any, None]) -> None:
    asyncio.run(scenario)


def committer(
    ledger: Ledger, max_group_size: int = 100, alone_from: int | None = None
) -> TenantGroupCommitter[str, str]:
    return TenantGroupCommitter(
        ledger.write, size=len, max_group_size=max_group_size, alone_from=alone_from, name="test"
    )


def test_a_lone_submission_goes_at_once_and_those_that_wait_go_together() -> None:
    run(_test_a_lone_submission_goes_at_once_and_those_that_wait_go_together())


async def _test_a_lone_submission_goes_at_once_and_those_that_wait_go_together() -> None:
    ledger = Ledger()
    groups = committer(ledger)
    tenant = a_tenant()
    ledger.pause.clear()
    first = asyncio.create_task(groups.submit(tenant, "a"))
    await asyncio.sleep(0.01)  # "a" is being written
    waiting = [asyncio.create_task(groups.submit(tenant, name)) for name in "bcd"]
    await asyncio.sleep(0.01)
    ledger.pause.set()
    assert await first == f"{tenant.name}:a"
    assert await asyncio.gather(*waiting) == [f"{tenant.name}:{name}" for name in "bcd"]
    assert ledger.groups == [["a"], ["b", "c", "d"]]


def test_tenants_are_written_apart() -> None:
    run(_test_tenants_are_written_apart())


async def _test_tenants_are_written_apart() -> None:
    ledger = Ledger()
    groups = committer(ledger)
    one, two = a_tenant(), a_tenant()
    answers = await asyncio.gather(
        groups.submit(one, "a"), groups.submit(two, "b"), groups.submit(one, "c")
    )
    assert list(answers) == [f"{one.name}:a", f"{two.name}:b", f"{one.name}:c"]
    assert sorted(ledger.groups) == [["a", "c"], ["b"]]


def test_a_group_takes_submissions_up_to_its_size_and_always_one() -> None:
    run(_test_a_group_takes_submissions_up_to_its_size_and_always_one())


async def _test_a_group_takes_submissions_up_to_its_size_and_always_one() -> None:
    ledger = Ledger()
    groups = committer(ledger, max_group_size=5)
    tenant = a_tenant()
    await asyncio.gather(*(groups.submit(tenant, name) for name in ("aaa", "bb", "c", "dddddddd")))
    assert ledger.groups == [["aaa", "bb"], ["c"], ["dddddddd"]]


def test_a_large_submission_goes_at_once_beside_a_group_in_flight() -> None:
    run(_test_a_large_submission_goes_at_once_beside_a_group_in_flight())


async def _test_a_large_submission_goes_at_once_beside_a_group_in_flight() -> None:
    ledger = Ledger()
    groups = committer(ledger, alone_from=5)
    tenant = a_tenant()
    ledger.pause.clear()
    small = asyncio.create_task(groups.submit(tenant, "a"))
    await asyncio.sleep(0.01)  # "a" is being written
    waiting = asyncio.create_task(groups.submit(tenant, "b"))
    large = asyncio.create_task(groups.submit(tenant, "large"))
    await asyncio.sleep(0.01)
    ledger.pause.set()
    await asyncio.gather(small, waiting, large)
    # "large" was written beside "a", not after it with "b"
    assert ledger.groups == [["a"], ["large"], ["b"]]


def test_a_submission_that_breaks_its_group_fails_alone() -> None:
    run(_test_a_submission_that_breaks_its_group_fails_alone())


async def _test_a_submission_that_breaks_its_group_fails_alone() -> None:
    ledger = Ledger(broken=lambda name: name == "bad")
    groups = committer(ledger)
    tenant = a_tenant()
    answers = await asyncio.gather(
        *(groups.submit(tenant, name) for name in ("a", "bad", "c")), return_exceptions=True
    )
    assert answers[0] == f"{tenant.name}:a"
    assert answers[2] == f"{tenant.name}:c"
    assert isinstance(answers[1], WebHostError)
    assert answers[1].status_code == 500
    assert ledger.groups == [["a"], ["c"]]  # the group failed, then each went alone


def test_a_group_the_write_refuses_fails_every_submission_in_it_with_that_error() -> None:
    run(_test_a_group_the_write_refuses_fails_every_submission_in_it_with_that_error())


async def _test_a_group_the_write_refuses_fails_every_submission_in_it_with_that_error() -> None:
    ledger = Ledger(busy="down")
    groups = committer(ledger)
    tenant = a_tenant()
    answers = await asyncio.gather(
        *(groups.submit(tenant, name) for name in ("down", "b")), return_exceptions=True
    )
    assert all(isinstance(answer, ServiceBusy) for answer in answers)
    assert await groups.submit(tenant, "later") == f"{tenant.name}:later"


def test_a_caller_that_goes_away_leaves_its_submission_written() -> None:
    run(_test_a_caller_that_goes_away_leaves_its_submission_written())


async def _test_a_caller_that_goes_away_leaves_its_submission_written() -> None:
    ledger = Ledger()
    groups = committer(ledger)
    tenant = a_tenant()
    ledger.pause.clear()
    gone = asyncio.create_task(groups.submit(tenant, "a"))
    await asyncio.sleep(0.01)
    gone.cancel()
    ledger.pause.set()
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert await groups.submit(tenant, "b") == f"{tenant.name}:b"
    assert ledger.groups == [["a"], ["b"]]


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["ok", "broken"]), st.integers(1, 7), st.integers(0, 2)),
        min_size=1,
        max_size=30,
    )
)
def test_every_submission_gets_its_own_answer_whatever_arrives_when(
    plan: list[tuple[str, int, int]],
) -> None:
    async def scenario() -> None:
        ledger = Ledger(broken=lambda name: name.startswith("broken"))
        groups = committer(ledger, max_group_size=10)
        tenant = a_tenant()

        async def submit(n: int, kind: str, size: int, delay: int) -> str | BaseException:
            for _ in range(delay):
                await asyncio.sleep(0)
            try:
                return await groups.submit(tenant, f"{kind}-{n}" + "." * (size - 1))
            except WebHostError as error:
                return error

        answers = await asyncio.gather(
            *(submit(n, kind, size, delay) for n, (kind, size, delay) in enumerate(plan))
        )
        for n, ((kind, size, _delay), answer) in enumerate(zip(plan, answers, strict=True)):
            if kind == "ok":
                assert answer == f"{tenant.name}:ok-{n}" + "." * (size - 1)
            else:
                assert isinstance(answer, WebHostError)
        written = [name for group in ledger.groups for name in group]
        assert sorted(written) == sorted(
            f"ok-{n}" + "." * (size - 1) for n, (kind, size, _) in enumerate(plan) if kind == "ok"
        )
        assert all(sum(map(len, group)) <= 10 or len(group) == 1 for group in ledger.groups)

    asyncio.run(scenario())

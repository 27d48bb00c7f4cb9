"""The point rate: a one-second bucket that may go into debt, refused only while in debt."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.data.fleet.tracking import post_json, send, track
from tests.support.bad_input import assert_clear_error
from tests.support.clients import api_client
from tests.support.database import ProvisionedTenant
from tests.support.servers import ServedApp
from webhost.data.fleet.rate import PointRate
from webhost.errors import TooManyRequests

TENANT = uuid.uuid4()


def test_a_burst_of_one_second_then_the_rate() -> None:
    rate = PointRate()
    rate.admit(TENANT, 10, per_second=10, now=0.0)  # the whole second's burst
    rate.admit(TENANT, 1, per_second=10, now=0.0)  # not in debt yet: taken, now in debt
    with pytest.raises(TooManyRequests) as refused:
        rate.admit(TENANT, 1, per_second=10, now=0.0)
    assert refused.value.retry_after_seconds == 1
    assert refused.value.headers == {"Retry-After": "1"}
    rate.admit(TENANT, 5, per_second=10, now=0.1)  # the debt of one point is paid in 0.1 s


def test_a_large_batch_is_taken_whole_and_paid_back_over_time() -> None:
    rate = PointRate()
    rate.admit(TENANT, 1000, per_second=100, now=0.0)
    with pytest.raises(TooManyRequests) as refused:
        rate.admit(TENANT, 1, per_second=100, now=1.0)
    assert refused.value.retry_after_seconds == 8  # 800 points of debt at 100 a second
    with pytest.raises(TooManyRequests):
        rate.admit(TENANT, 1, per_second=100, now=8.9)
    rate.admit(TENANT, 1, per_second=100, now=9.0)


def test_no_limit_and_other_tenants_are_untouched() -> None:
    rate = PointRate()
    for _ in range(100):
        rate.admit(TENANT, 10_000, per_second=None)
    rate.admit(TENANT, 100, per_second=1, now=0.0)
    rate.admit(uuid.uuid4(), 100, per_second=1, now=0.0)


@given(
    requests=st.lists(
        st.tuples(st.integers(1, 500), st.floats(0, 2, allow_nan=False)), max_size=200
    ),
    per_second=st.integers(1, 200),
)
def test_over_time_a_tenant_gets_at_most_its_rate_plus_one_burst_and_one_request(
    requests: list[tuple[int, float]], per_second: int
) -> None:
    rate, now, taken, largest = PointRate(), 0.0, 0, 0
    waits: list[int] = []
    for points, pause in requests:
        now += pause
        try:
            rate.admit(TENANT, points, per_second=per_second, now=now)
        except TooManyRequests as refused:
            waits.append(refused.retry_after_seconds)
            continue
        taken += points
        largest = max(largest, points)
    assert taken <= per_second * (now + 1) + largest
    assert all(wait >= 1 for wait in waits)


def test_the_batch_endpoint_answers_429_with_retry_after(
    data_server: ServedApp, limited_tenant: Callable[..., ProvisionedTenant]
) -> None:
    tenant = limited_tenant(gps_points_per_second=10)
    with api_client(data_server.url, tenant.api_key) as client:
        assert send(client, track("a", 100))["accepted"] == 100
        refused = post_json(client, "/v1/fleet/positions", track("b", 1))
        error = assert_clear_error(refused, 429)
        assert error["code"] == "rate_limited"
        assert 1 <= int(refused.headers["Retry-After"]) <= 9
        assert "10 GPS points per second" in error["message"]

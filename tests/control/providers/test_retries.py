from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webhost.control.providers.retries import RetryPolicy, retry_after_seconds
from webhost.errors import ConfigurationError


def test_retry_after_is_read_as_seconds_or_as_a_date() -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(" 0.5 ") == 0.5
    assert 0.0 < (retry_after_seconds(later) or 0.0) <= 60.0
    assert retry_after_seconds("-3") == 0.0
    for unusable in (None, "", "soon", "inf", "nan"):
        assert retry_after_seconds(unusable) is None


@given(st.text(max_size=40))
def test_any_header_value_is_seconds_or_nothing(value: str) -> None:
    seconds = retry_after_seconds(value)
    assert seconds is None or seconds >= 0.0


def test_the_back_off_doubles_up_to_its_ceiling_unless_the_service_names_a_wait() -> None:
    policy = RetryPolicy(attempts=6, first_delay=0.5, max_delay=3.0, max_total_wait=30.0)
    assert [policy.backoff(retries) for retries in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert policy.delay(0, 7.0) == 7.0
    assert policy.delay(2, None) == 2.0
    with pytest.raises(ConfigurationError):
        RetryPolicy(attempts=0)

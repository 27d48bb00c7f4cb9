"""Generated bad input (hypothesis strategies) and the error shape every refusal must have."""

from __future__ import annotations

from typing import Any

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# examples go over HTTP to a real server: no deadline, same examples on every run
OVER_HTTP = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def any_case(text: str) -> st.SearchStrategy[str]:
    """``text`` with each letter upper- or lower-cased independently."""
    return st.lists(st.booleans(), min_size=len(text), max_size=len(text)).map(
        lambda flips: "".join(
            c.upper() if up else c.lower() for c, up in zip(text, flips, strict=True)
        )
    )


def json_media_types() -> st.SearchStrategy[str]:
    """``application/json`` and ``+json`` types, any letter case, with or without a charset."""
    base = st.sampled_from(
        ["application/json", "application/vnd.api+json", "application/merge-patch+json"]
    )
    charset = st.sampled_from(["", "; charset=utf-8", ";charset=UTF-8", " ; Charset=utf-8"])
    return st.tuples(base.flatmap(any_case), charset.flatmap(any_case)).map("".join)


def assert_clear_error(response: httpx.Response, status: int | None = None) -> dict[str, Any]:
    """A client error: 4xx, ``{"error": {"code", "message"}}``, never a server error."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:500])
    if status is not None:
        assert response.status_code == status, response.text[:500]
    error: dict[str, Any] = response.json()["error"]
    assert set(error) <= {"code", "message", "details"}
    assert error["code"]
    assert isinstance(error["code"], str)
    assert error["message"]
    assert isinstance(error["message"], str)
    return error

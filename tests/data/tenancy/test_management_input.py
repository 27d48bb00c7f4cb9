"""Whatever a management request carries, a bad one gets a clear 4xx, never a 500."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.bad_input import OVER_HTTP, assert_clear_error, json_values, nul_strings
from tests.support.management import ManagedTenant, provision_through_api


@pytest.fixture
def managed_tenant(manage: httpx.Client) -> ManagedTenant:
    return provision_through_api(manage)


# neither text that reads as a number nor whole floats, which pydantic takes as integers
words = st.text(st.characters(categories=["L"]), max_size=10)
fractions = st.floats(allow_nan=False, allow_infinity=False).filter(lambda v: not v.is_integer())
LIMIT_NAMES = ["yjs_document_max_bytes", "vehicle_limit", "gps_points_per_second", "retention_days"]
bad_limits = st.one_of(
    st.dictionaries(st.sampled_from(LIMIT_NAMES), st.integers(max_value=0), min_size=1).filter(
        lambda limits: any(
            value < (0 if name == "vehicle_limit" else 1) for name, value in limits.items()
        )
    ),
    st.dictionaries(st.sampled_from(LIMIT_NAMES), st.integers(min_value=2**53 + 1), min_size=1),
    st.dictionaries(st.sampled_from(LIMIT_NAMES), words | fractions, min_size=1),
    st.dictionaries(
        st.text(min_size=1).filter(lambda k: k not in LIMIT_NAMES), json_values(), min_size=1
    ),
    json_values().filter(lambda value: not isinstance(value, dict)),
)


@OVER_HTTP
@given(body=bad_limits)
def test_bad_limits_are_422(manage: httpx.Client, managed_tenant: ManagedTenant, body: Any) -> None:
    assert_clear_error(manage.put(f"{managed_tenant.path}/limits", json=body), 422)
    created = manage.put(managed_tenant.path, json={"name": managed_tenant.name, "limits": body})
    assert_clear_error(created, 422)


@OVER_HTTP
@given(body=json_values())
def test_any_json_body_gets_a_clear_answer(
    manage: httpx.Client, managed_tenant: ManagedTenant, body: Any
) -> None:
    for path in (
        managed_tenant.path,
        f"{managed_tenant.path}/limits",
        f"{managed_tenant.path}/serving-state",
        f"{managed_tenant.path}/keys/{managed_tenant.key.prefix}",
    ):
        response = manage.put(path, json=body)
        if response.status_code >= 300:
            assert_clear_error(response)


@OVER_HTTP
@given(
    name=st.text(max_size=40) | nul_strings(),
    digest=st.text(max_size=80),
    scope=st.text(max_size=10),
    state=st.text(max_size=12),
    message=st.text(max_size=600) | nul_strings(),
)
def test_bad_fields_are_refused_with_what_is_wrong(
    manage: httpx.Client,
    managed_tenant: ManagedTenant,
    name: str,
    digest: str,
    scope: str,
    state: str,
    message: str,
) -> None:
    if name != managed_tenant.name:
        renamed = manage.put(managed_tenant.path, json={"name": name})
        assert "name" in assert_clear_error(renamed, 422)["message"]
    key_path = f"{managed_tenant.path}/keys/{managed_tenant.key.prefix}"
    published = manage.put(key_path, json={"secret_digest": digest, "scope": scope})
    assert_clear_error(published, 422)
    serving = manage.put(
        f"{managed_tenant.path}/serving-state", json={"state": state, "message": message}
    )
    if serving.status_code != 200:
        assert_clear_error(serving, 422)


@OVER_HTTP
@given(
    segment=st.text(min_size=1, max_size=40).filter(lambda s: "/" not in s and s not in {".", ".."})
)
def test_bad_ids_and_prefixes_in_the_path_are_refused(
    manage: httpx.Client, managed_tenant: ManagedTenant, segment: str
) -> None:
    for response in (
        manage.get(f"/_manage/v1/tenants/{_escaped(segment)}/holdings"),
        manage.delete(f"{managed_tenant.path}/keys/{_escaped(segment)}"),
    ):
        if response.status_code >= 300:
            assert_clear_error(response)


def _escaped(segment: str) -> str:
    return quote(segment, safe="")

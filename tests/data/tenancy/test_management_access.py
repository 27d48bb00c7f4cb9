"""Only the holder of the plane's management token manages it; a dedicated plane manages its
one tenant; a plane without a token has no management API at all."""

from __future__ import annotations

import uuid

import httpx
import pytest
from pydantic import SecretStr

from tests.data.yjs.planes import StartedPlane, StartPlane
from tests.support.bad_input import assert_clear_error
from tests.support.management import MANAGEMENT_TOKEN, management_client, provision_through_api
from webhost.data.tenancy.scope import tenant_name_for

READS_AND_WRITES = [
    ("GET", "/_manage/v1/capacity"),
    ("PUT", f"/_manage/v1/tenants/{uuid.UUID(int=1)}"),
    ("DELETE", f"/_manage/v1/tenants/{uuid.UUID(int=1)}"),
    ("GET", f"/_manage/v1/tenants/{uuid.UUID(int=1)}/holdings"),
]


@pytest.mark.parametrize(("method", "path"), READS_AND_WRITES)
@pytest.mark.parametrize(
    ("authorization", "expected"),
    [
        (None, "missing management token"),
        ("Bearer not-the-token", "invalid management token"),
        (f"Bearer {MANAGEMENT_TOKEN}x", "invalid management token"),
        (f"Bearer {MANAGEMENT_TOKEN[:-1]}", "invalid management token"),
        (f"Basic {MANAGEMENT_TOKEN}", "missing management token"),
    ],
)
def test_a_missing_or_wrong_token_is_401(
    managed_plane: StartedPlane, method: str, path: str, authorization: str | None, expected: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    body = {"name": tenant_name_for(uuid.UUID(int=1))} if method == "PUT" else None
    response = httpx.request(
        method, managed_plane.served.url + path, headers=headers, json=body, timeout=30
    )
    error = assert_clear_error(response, 401)
    assert expected in error["message"]
    assert MANAGEMENT_TOKEN not in response.text


def test_a_plane_without_a_token_serves_no_management_api(start_plane: StartPlane) -> None:
    plain = start_plane()
    with management_client(plain.served.url) as manage:
        response = manage.get("/_manage/v1/capacity")
    assert_clear_error(response, 404)


def test_a_dedicated_plane_manages_only_its_own_tenant(start_plane: StartPlane) -> None:
    own = uuid.uuid4()
    dedicated = start_plane(only_tenant=own, management_token=SecretStr(MANAGEMENT_TOKEN))
    with management_client(dedicated.served.url) as manage:
        assert manage.get("/_manage/v1/capacity").json() == {"tenants": 0}
        created = manage.put(f"/_manage/v1/tenants/{own}", json={"name": tenant_name_for(own)})
        assert created.status_code == 200, created.text
        assert manage.get("/_manage/v1/capacity").json() == {"tenants": 1}
        other = uuid.uuid4()
        for response in (
            manage.put(f"/_manage/v1/tenants/{other}", json={"name": tenant_name_for(other)}),
            manage.delete(f"/_manage/v1/tenants/{other}"),
            manage.get(f"/_manage/v1/tenants/{other}/holdings"),
        ):
            error = assert_clear_error(response, 404)
            assert "serves one tenant only" in error["message"]
        assert manage.delete(f"/_manage/v1/tenants/{own}").status_code == 204


def test_a_name_that_is_not_the_tenants_is_refused(manage: httpx.Client) -> None:
    tenant_id, other = uuid.uuid4(), uuid.uuid4()
    response = manage.put(f"/_manage/v1/tenants/{tenant_id}", json={"name": tenant_name_for(other)})
    error = assert_clear_error(response, 422)
    assert tenant_name_for(tenant_id) in error["message"]


def test_a_key_moves_with_its_publisher_only_within_the_plane(manage: httpx.Client) -> None:
    tenant = provision_through_api(manage)
    again = manage.put(
        f"{tenant.path}/keys/{tenant.key.prefix}",
        json={"secret_digest": tenant.key.secret_digest, "scope": "ingest"},
    )
    assert again.status_code == 204

"""The management API's move calls over HTTP: a tenant frozen on one plane, its dump streamed
out and restored on another plane, whose digests then match; a dump larger than any request
body limit goes through; a bad dump is 400 with what is wrong; and each call wants the token."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.data.tenancy.copies import fill
from tests.data.yjs.planes import StartedPlane
from tests.support.bad_input import OVER_HTTP, assert_clear_error, json_values, nul_strings
from tests.support.clients import api_client
from tests.support.database import create_dataplane_database
from tests.support.management import (
    ManagedTenant,
    management_client,
    provision_through_api,
    serve_managed_plane,
)
from tests.support.servers import ServedApp
from webhost.data.tenancy.dump_frames import MEDIA_TYPE, frame, opening
from webhost.db.urls import PostgresURL


@pytest.fixture
def managed_tenant(manage: httpx.Client) -> ManagedTenant:
    return provision_through_api(manage)


@pytest.fixture
def other_plane(postgres_server: PostgresURL) -> Iterator[ServedApp]:
    """A second plane on a database of its own, with a small body limit."""
    served = serve_managed_plane(create_dataplane_database(postgres_server), max_body_bytes=4096)
    yield served
    served.stop()


def provision_same(manage: httpx.Client, tenant: ManagedTenant) -> None:
    made = manage.put(tenant.path, json={"name": tenant.name, "limits": {}})
    assert made.status_code == 200, made.text


def digests(manage: httpx.Client, tenant: ManagedTenant) -> dict[str, tuple[int, str]]:
    answered = manage.get(f"{tenant.path}/digests")
    assert answered.status_code == 200, answered.text
    return {t["table"]: (t["rows"], t["digest"]) for t in answered.json()["tables"]}


def test_a_tenant_dumped_from_one_plane_and_restored_on_another_is_equal(
    managed_plane: StartedPlane, manage: httpx.Client, other_plane: ServedApp
) -> None:
    tenant = provision_through_api(manage)
    with api_client(managed_plane.served.url, tenant.key.full_key) as client:
        fill(client)
    assert manage.post(f"{tenant.path}/freeze").status_code == 204
    assert manage.post(f"{tenant.path}/freeze").status_code == 204  # idempotent
    with api_client(managed_plane.served.url, tenant.key.full_key) as client:
        refused = client.post("/v1/collections/trips/records", json={"vehicle": "late"})
        assert refused.status_code == 503, refused.text
    dumped = manage.get(f"{tenant.path}/data")
    assert dumped.status_code == 200
    assert dumped.headers["content-type"] == MEDIA_TYPE
    assert len(dumped.content) > 4096  # more than the other plane takes in a request body
    with management_client(other_plane.url) as other:
        provision_same(other, tenant)
        restored = other.put(
            f"{tenant.path}/data", content=dumped.content, headers={"Content-Type": MEDIA_TYPE}
        )
        assert restored.status_code == 200, restored.text
        assert restored.json()["rows"] >= 50
        assert digests(other, tenant) == digests(manage, tenant)
        # the key digests came along: the key opens the other plane, records included
        with api_client(other_plane.url, tenant.key.full_key) as client:
            listed = client.get("/v1/collections/trips/records", params={"limit": 100})
            assert listed.status_code == 200, listed.text
            assert len(listed.json()) == 30
        # the other plane still refuses an ordinary body over its limit
        big = other.put(f"{tenant.path}/limits", content=b"x" * 5000)
        assert big.status_code == 413
    assert manage.post(f"{tenant.path}/thaw").status_code == 204
    with api_client(managed_plane.served.url, tenant.key.full_key) as client:
        again = client.post("/v1/collections/trips/records", json={"vehicle": "after"})
        assert again.status_code == 201, again.text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "incomplete"),
        (b"not a dump\n", "not a line of JSON"),
        (opening() + frame("table", table="pg_authid", columns=["rolname"]), "not a table"),
        (opening() + frame("weeks", weeks=[]), "incomplete"),
    ],
)
def test_a_bad_dump_is_400_with_what_is_wrong(
    manage: httpx.Client, body: bytes, message: str
) -> None:
    tenant = provision_through_api(manage)
    answered = manage.put(f"{tenant.path}/data", content=body)
    assert answered.status_code == 400, answered.text
    assert answered.json()["error"]["code"] == "bad_request"
    assert message in answered.json()["error"]["message"]


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("POST", "freeze"),
        ("POST", "thaw"),
        ("GET", "data"),
        ("PUT", "data"),
        ("GET", "digests"),
    ],
)
def test_every_move_call_wants_the_management_token_and_a_known_tenant(
    managed_plane: StartedPlane, manage: httpx.Client, method: str, suffix: str
) -> None:
    path = f"/_manage/v1/tenants/{uuid.uuid4()}/{suffix}"
    with management_client(managed_plane.served.url, token=None) as anonymous:
        assert anonymous.request(method, path, content=b"x").status_code == 401
    with management_client(managed_plane.served.url, token="wrong") as guessing:
        assert guessing.request(method, path, content=b"x").status_code == 401
    unknown = manage.request(method, path, content=b"x")
    assert unknown.status_code == 404, unknown.text


FRAME_KINDS = ["weeks", "table", "data", "table_end", "sequences", "keys", "end", "other"]
generated_frames = st.lists(
    st.builds(
        lambda kind, fields: json.dumps({"kind": kind, **fields}).encode() + b"\n",
        st.sampled_from(FRAME_KINDS),
        st.dictionaries(
            st.sampled_from(
                ["table", "columns", "size", "rows", "tables", "weeks", "values", "keys"]
            ),
            json_values(max_leaves=6) | nul_strings(),
            max_size=4,
        ),
    ),
    max_size=6,
)


@OVER_HTTP
@given(
    body=st.one_of(
        st.binary(max_size=300),
        generated_frames.map(lambda frames: opening() + b"".join(frames)),
    )
)
def test_any_body_a_restore_is_sent_is_taken_whole_or_refused_clearly(
    manage: httpx.Client, managed_tenant: ManagedTenant, body: bytes
) -> None:
    answered = manage.put(f"{managed_tenant.path}/data", content=body)
    if answered.status_code == 200:  # an empty, well-formed dump: an empty tenant
        assert answered.json() == {"tables": 0, "rows": 0}
        return
    error = assert_clear_error(answered, 400)
    assert error["message"].startswith("the dump was not restored: ")

"""The management API provisions tenants and keys on a plane, and real requests see the result."""

from __future__ import annotations

import json
import uuid

import httpx

from tests.data.yjs.peers import WirePeer
from tests.data.yjs.planes import StartedPlane
from tests.support.clients import api_client
from tests.support.management import ManagedTenant, provision_through_api
from webhost.data.tenancy.scope import tenant_name_for
from webhost.security.api_keys import generate_api_key

UNPAID = "payment failed on 2026-12-01; update the card in the billing portal"


def _schema_exists(manage: httpx.Client, tenant: ManagedTenant) -> bool:
    return manage.get(f"{tenant.path}/holdings").status_code == 200


def test_a_provisioned_tenant_serves_records_with_a_published_key(
    managed_plane: StartedPlane, manage: httpx.Client
) -> None:
    tenant = provision_through_api(manage)
    with api_client(managed_plane.served.url, tenant.key.full_key) as client:
        assert client.put("/v1/collections/notes", json={"schema": "id"}).status_code == 201
        created = client.post("/v1/collections/notes/records", json={"id": "n1"})
        assert created.status_code == 201, created.text
        assert [r["id"] for r in client.get("/v1/collections/notes/records").json()] == ["n1"]


def test_provisioning_twice_changes_nothing_and_answers_the_tenant(manage: httpx.Client) -> None:
    tenant_id = uuid.uuid4()
    body = {"name": tenant_name_for(tenant_id), "limits": {"vehicle_limit": 5}}
    first = manage.put(f"/_manage/v1/tenants/{tenant_id}", json=body)
    again = manage.put(f"/_manage/v1/tenants/{tenant_id}", json=body)
    assert first.status_code == again.status_code == 200, again.text
    assert first.json() == again.json()
    assert again.json() == {
        "id": str(tenant_id),
        "name": tenant_name_for(tenant_id),
        "limits": {
            "yjs_document_max_bytes": None,
            "vehicle_limit": 5,
            "gps_points_per_second": None,
            "retention_days": None,
        },
        "state": "active",
        "message": None,
    }


def test_capacity_counts_the_tenants_the_plane_holds(manage: httpx.Client) -> None:
    before = manage.get("/_manage/v1/capacity").json()["tenants"]
    tenant = provision_through_api(manage)
    assert manage.get("/_manage/v1/capacity").json() == {"tenants": before + 1}
    assert manage.delete(tenant.path).status_code == 204
    assert manage.get("/_manage/v1/capacity").json() == {"tenants": before}


def test_new_limits_are_enforced_on_real_requests(
    managed_plane: StartedPlane, manage: httpx.Client
) -> None:
    tenant = provision_through_api(manage)
    changed = manage.put(f"{tenant.path}/limits", json={"vehicle_limit": 1})
    assert changed.status_code == 200, changed.text
    assert changed.json()["limits"]["vehicle_limit"] == 1
    with api_client(managed_plane.served.url, tenant.key.full_key) as client:
        first = client.post("/v1/fleet/vehicles", json={"identifier": "bus-1"})
        assert first.status_code == 201, first.text
        second = client.post("/v1/fleet/vehicles", json={"identifier": "bus-2"})
        assert second.status_code == 403, second.text
        assert second.json()["error"]["code"] == "vehicle_limit_reached"
    held = manage.get(f"{tenant.path}/holdings")
    assert held.status_code == 200
    assert held.json() == {"vehicles": 1, "oldest_position": None}


def test_a_revoked_key_is_refused_at_once_and_its_socket_closed(
    managed_plane: StartedPlane, manage: httpx.Client
) -> None:
    tenant = provision_through_api(manage)
    peer = WirePeer.connect(managed_plane.ws_url, "doc", tenant.key.full_key).wait_synced()
    try:
        with api_client(managed_plane.served.url, tenant.key.full_key) as client:
            assert client.get("/v1/collections").status_code == 200
            revoked = manage.delete(f"{tenant.path}/keys/{tenant.key.prefix}")
            assert revoked.status_code == 204, revoked.text
            refused = client.get("/v1/collections")
            assert refused.status_code == 401, refused.text
        assert peer.wait_closed() >= 4000  # closed by the plane, not by the network
    finally:
        peer.close()
    # revoking again, or a key the plane never had, is done already
    assert manage.delete(f"{tenant.path}/keys/{tenant.key.prefix}").status_code == 204
    never = generate_api_key().prefix
    assert manage.delete(f"{tenant.path}/keys/{never}").status_code == 204


def test_a_key_of_another_tenant_is_not_revoked_through_this_one(manage: httpx.Client) -> None:
    tenant, other = provision_through_api(manage), provision_through_api(manage)
    refused = manage.delete(f"{tenant.path}/keys/{other.key.prefix}")
    assert refused.status_code == 404
    assert other.key.prefix in refused.json()["error"]["message"]


def test_suspended_is_402_and_held_is_503_with_retry_after(
    managed_plane: StartedPlane, manage: httpx.Client
) -> None:
    tenant = provision_through_api(manage)
    state = f"{tenant.path}/serving-state"
    with api_client(managed_plane.served.url, tenant.key.full_key) as client:
        suspended = manage.put(state, json={"state": "suspended", "message": UNPAID})
        assert suspended.status_code == 200, suspended.text
        assert (suspended.json()["state"], suspended.json()["message"]) == ("suspended", UNPAID)
        response = client.get("/v1/collections")
        assert response.status_code == 402
        assert response.json()["error"] == {"code": "deployment_suspended", "message": UNPAID}
        assert manage.put(state, json={"state": "held"}).status_code == 200
        response = client.get("/v1/collections")
        assert response.status_code == 503
        assert int(response.headers["retry-after"]) >= 1
        assert manage.put(state, json={"state": "active"}).status_code == 200
        assert client.get("/v1/collections").status_code == 200


def test_removing_a_tenant_drops_its_data_and_keys_and_can_be_repeated(
    managed_plane: StartedPlane, manage: httpx.Client
) -> None:
    tenant = provision_through_api(manage)
    with api_client(managed_plane.served.url, tenant.key.full_key) as client:
        assert client.put("/v1/collections/notes", json={"schema": "id"}).status_code == 201
        assert manage.delete(tenant.path).status_code == 204
        assert client.get("/v1/collections").status_code == 401
    assert not _schema_exists(manage, tenant)
    assert manage.delete(tenant.path).status_code == 204
    # provisioned again, it starts empty
    again = manage.put(tenant.path, json={"name": tenant.name})
    assert again.status_code == 200, again.text
    published = manage.put(
        f"{tenant.path}/keys/{tenant.key.prefix}", json={"secret_digest": tenant.key.secret_digest}
    )
    assert published.status_code == 204
    with api_client(managed_plane.served.url, tenant.key.full_key) as client:
        assert client.get("/v1/collections").json() == []


def test_operations_on_a_tenant_the_plane_does_not_hold_are_404(manage: httpx.Client) -> None:
    missing = f"/_manage/v1/tenants/{uuid.uuid4()}"
    key = generate_api_key()
    for response in (
        manage.put(f"{missing}/limits", json={}),
        manage.put(f"{missing}/keys/{key.prefix}", json={"secret_digest": key.secret_digest}),
        manage.put(f"{missing}/serving-state", json={"state": "active"}),
        manage.get(f"{missing}/holdings"),
        manage.get(f"{missing}/export"),
    ):
        assert response.status_code == 404, response.text
        assert "is not on this plane" in response.json()["error"]["message"]


def test_an_export_streams_every_row_of_the_tenant_and_no_other_tenants(
    managed_plane: StartedPlane, manage: httpx.Client
) -> None:
    tenant, other = provision_through_api(manage), provision_through_api(manage)
    for owner, names in ((tenant, ["n1", "n\u00e9 2"]), (other, ["theirs"])):
        with api_client(managed_plane.served.url, owner.key.full_key) as client:
            assert client.put("/v1/collections/notes", json={"schema": "id"}).status_code == 201
            for name in names:
                created = client.post("/v1/collections/notes/records", json={"id": name})
                assert created.status_code == 201, created.text
    exported = manage.get(f"{tenant.path}/export")
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in exported.text.splitlines()]
    notes = sorted(line["row"]["pk"] for line in lines if line["table"] == "c_notes")
    assert notes == ["n1", "n\u00e9 2"]
    assert {line["table"] for line in lines} >= {"c_notes", "_changes"}
    unauthorised = httpx.get(f"{managed_plane.served.url}{tenant.path}/export", timeout=10)
    assert unauthorised.status_code == 401

"""The device key: the key of scope `ingest` in each deployment's `osmand_url`, for phones."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.support.bad_input import assert_clear_error
from tests.support.clients import api_client
from tests.support.factories import Customer, create_key, operator_client
from tests.support.inspect import query
from tests.support.platform import PlatformThread, wait_for_deployment
from webhost.data.tenancy.scope import tenant_name_for
from webhost.db.urls import PostgresURL
from webhost.security.tokens import digest

SignUp = Callable[..., Customer]
DEVICE_KEY_NAME = "Devices (OsmAnd)"
KEY = re.compile(r"whs_live_[A-Za-z0-9]{12}_[A-Za-z0-9]{32}")


def device_key_of(deployment: dict[str, Any]) -> str:
    """The key in the URL, checked to be exactly `{api_url}/v1/fleet/osmand/{key}`."""
    prefix = f"{deployment['api_url']}/v1/fleet/osmand/"
    url = deployment["osmand_url"]
    assert url.startswith(prefix), url
    key = url.removeprefix(prefix)
    assert KEY.fullmatch(key), url
    return str(key)


def prefix_of(key: str) -> str:
    return key.rsplit("_", 1)[0]


def plane_database(platform: PlatformThread, deployment: dict[str, Any]) -> PostgresURL:
    control = platform.control_database
    if deployment["mode"] == "shared":
        return control.with_database(f"{control.database}_shared")
    return control.with_database(f"wh_{tenant_name_for(uuid.UUID(deployment['id']))}")


def directory_entry(
    platform: PlatformThread, deployment: dict[str, Any], prefix: str
) -> tuple[Any, ...] | None:
    """(tenant id, scope, secret digest, revoked) of a key in the data plane's directory."""
    rows = query(
        plane_database(platform, deployment),
        "SELECT tenant_id::text, scope, secret_digest, revoked_at IS NOT NULL "
        "FROM webhost_dataplane.api_keys WHERE prefix = $1",
        prefix,
    )
    return rows[0] if rows else None


def device_keys_listed(customer: Customer) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = customer.client.get("/api/keys").json()
    return [key for key in listed if key["scope"] == "ingest"]


def deployment_of(customer: Customer) -> dict[str, Any]:
    response = customer.client.get(f"/api/deployments/{customer.deployment['id']}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("plan", ["hobby", "starter"])
def test_the_osmand_url_comes_with_the_first_key_and_holds_a_device_key(
    platform: PlatformThread, signup: SignUp, plan: str
) -> None:
    customer = signup(plan)
    deployment = wait_for_deployment(customer.client, customer.deployment["id"])
    assert deployment["osmand_url"] is None
    assert customer.client.get("/api/keys").json() == []

    full = create_key(customer, "backend")
    deployment = deployment_of(customer)
    device_key = device_key_of(deployment)
    assert device_key != full["key"]
    assert (
        customer.client.get("/api/deployments").json()[0]["osmand_url"]
        == (deployment["osmand_url"])
    )
    listed = device_keys_listed(customer)
    assert [(key["name"], key["prefix"], key["revoked_at"]) for key in listed] == [
        (DEVICE_KEY_NAME, prefix_of(device_key), None)
    ]

    tenant = deployment["id"]
    assert directory_entry(platform, deployment, prefix_of(device_key)) == (
        tenant,
        "ingest",
        digest(device_key),
        False,
    )
    assert directory_entry(platform, deployment, full["prefix"]) == (
        tenant,
        "full",
        digest(full["key"]),
        False,
    )
    with api_client(deployment["api_url"], device_key) as data:
        # authenticated, and refused: a device key may only send positions
        assert_clear_error(data.get("/v1/collections"), 403)

    # more full keys leave the device key as it is
    create_key(customer, "another app")
    assert deployment_of(customer)["osmand_url"] == deployment["osmand_url"]
    assert len(device_keys_listed(customer)) == 1


def test_a_new_device_key_replaces_the_old_one_everywhere(
    platform: PlatformThread, signup: SignUp
) -> None:
    customer = signup()
    wait_for_deployment(customer.client, customer.deployment["id"])
    full = create_key(customer)
    before = deployment_of(customer)
    old_key = device_key_of(before)

    response = customer.client.post("/api/keys/device")
    assert response.status_code == 201, response.text
    replacement = response.json()
    assert replacement["scope"] == "ingest"
    assert replacement["name"] == DEVICE_KEY_NAME
    assert "key" not in replacement
    assert not KEY.search(response.text), "the device key is shown only in osmand_url"

    after = deployment_of(customer)
    new_key = device_key_of(after)
    assert new_key != old_key
    assert prefix_of(new_key) == replacement["prefix"]
    assert after["osmand_url"] == before["osmand_url"].replace(old_key, new_key)

    listed = {key["prefix"]: key for key in device_keys_listed(customer)}
    assert listed[prefix_of(old_key)]["revoked_at"] is not None
    assert listed[prefix_of(new_key)]["revoked_at"] is None
    old_entry = directory_entry(platform, after, prefix_of(old_key))
    new_entry = directory_entry(platform, after, prefix_of(new_key))
    assert old_entry is not None
    assert old_entry[3] is True, "revoked on the data plane"
    assert new_entry == (after["id"], "ingest", digest(new_key), False)
    with (
        api_client(after["api_url"], old_key) as old,
        api_client(after["api_url"], new_key) as new,
        api_client(after["api_url"], full["key"]) as backend,
    ):
        assert_clear_error(old.get("/v1/collections"), 401)
        assert_clear_error(new.get("/v1/collections"), 403)
        assert backend.get("/v1/collections").status_code == 200


def test_a_revoked_device_key_is_followed_by_a_new_one(
    platform: PlatformThread, signup: SignUp
) -> None:
    customer = signup()
    wait_for_deployment(customer.client, customer.deployment["id"])
    create_key(customer)
    old_key = device_key_of(deployment_of(customer))
    (device,) = device_keys_listed(customer)

    revoked = customer.client.delete(f"/api/keys/{device['id']}")
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    deployment = deployment_of(customer)
    entry = directory_entry(platform, deployment, prefix_of(old_key))
    assert entry is not None
    assert entry[3] is True
    new_key = device_key_of(deployment)
    assert new_key != old_key
    assert [key["revoked_at"] is None for key in device_keys_listed(customer)] == [False, True]


def test_the_url_needs_an_active_full_key_and_a_new_device_key_one_too(signup: SignUp) -> None:
    customer = signup()
    wait_for_deployment(customer.client, customer.deployment["id"])
    refused = customer.client.post("/api/keys/device")
    assert "API key first" in assert_clear_error(refused, 409)["message"]
    assert customer.client.get("/api/keys").json() == []

    full = create_key(customer)
    url = deployment_of(customer)["osmand_url"]
    assert url is not None
    assert customer.client.delete(f"/api/keys/{full['id']}").status_code == 200
    assert deployment_of(customer)["osmand_url"] is None
    assert_clear_error(customer.client.post("/api/keys/device"), 409)
    # the device key itself lives on: phones keep reporting, and the URL is the same again
    create_key(customer)
    assert deployment_of(customer)["osmand_url"] == url


def test_keys_created_while_provisioning_bring_the_url_once_active(signup: SignUp) -> None:
    customer = signup()
    create_key(customer, "early")
    early = deployment_of(customer)
    if early["status"] != "active":
        assert early["osmand_url"] is None
    deployment = wait_for_deployment(customer.client, customer.deployment["id"])
    device_key = device_key_of(deployment)
    with api_client(deployment["api_url"], device_key) as data:
        assert_clear_error(data.get("/v1/collections"), 403)


def test_organizations_that_had_keys_before_get_their_device_key_once(
    platform: PlatformThread, signup: SignUp
) -> None:
    customer = signup()
    deployment = wait_for_deployment(customer.client, customer.deployment["id"])
    create_key(customer)
    # as an organization whose keys were made before device keys existed
    query(
        platform.control_database,
        "DELETE FROM api_keys WHERE scope = 'ingest' AND organization_id = $1",
        uuid.UUID(customer.organization["id"]),
    )
    assert device_keys_listed(customer) == []

    with ThreadPoolExecutor(8) as pool:
        urls = set(pool.map(lambda _: deployment_of(customer)["osmand_url"], range(8)))
    assert len(urls) == 1, "readers racing to make it agree on one"
    device_key = device_key_of({**deployment, "osmand_url": urls.pop()})
    assert [key["prefix"] for key in device_keys_listed(customer)] == [prefix_of(device_key)]
    entry = directory_entry(platform, deployment, prefix_of(device_key))
    assert entry is not None
    assert entry[1:] == ("ingest", digest(device_key), False)


def test_other_organizations_and_operators_never_see_the_device_key(
    platform: PlatformThread, signup: SignUp
) -> None:
    owner, stranger = signup(), signup()
    wait_for_deployment(owner.client, owner.deployment["id"])
    create_key(owner)
    owner_url = deployment_of(owner)["osmand_url"]
    device_key = device_key_of(deployment_of(owner))

    assert_clear_error(stranger.client.get(f"/api/deployments/{owner.deployment['id']}"), 404)
    assert stranger.client.get("/api/keys").json() == []
    (device,) = device_keys_listed(owner)
    assert_clear_error(stranger.client.delete(f"/api/keys/{device['id']}"), 404)
    # a stranger's "new device key" is about the stranger's own organization
    assert_clear_error(stranger.client.post("/api/keys/device"), 409)
    assert deployment_of(owner)["osmand_url"] == owner_url

    with operator_client(platform) as operator:
        seen = operator.get(f"/api/deployments/{owner.deployment['id']}")
        assert seen.status_code == 200
        assert seen.json()["osmand_url"] is None
        everything = operator.get("/api/admin/deployments")
        assert everything.status_code == 200
        assert device_key not in everything.text
    assert device_key not in owner.client.get("/api/keys").text


def test_device_keys_do_not_count_against_the_key_limit(signup: SignUp) -> None:
    customer = signup()
    for number in range(50):
        create_key(customer, f"app {number}")
    refused = customer.client.post("/api/keys", json={"name": "one too many"})
    assert "50 active keys" in assert_clear_error(refused, 409)["message"]
    listed = customer.client.get("/api/keys").json()
    assert sum(key["scope"] == "full" for key in listed) == 50
    assert sum(key["scope"] == "ingest" for key in listed) == 1
    assert customer.client.post("/api/keys/device").status_code == 201


def test_a_device_key_sealed_under_another_secret_key_shows_no_url_until_replaced(
    platform: PlatformThread, signup: SignUp
) -> None:
    customer = signup()
    wait_for_deployment(customer.client, customer.deployment["id"])
    create_key(customer)
    old_key = device_key_of(deployment_of(customer))
    # as if WEBHOST_SECRET_KEY had changed since it was sealed
    query(
        platform.control_database,
        "UPDATE api_keys SET sealed_key = $1 WHERE prefix = $2",
        b"\x01" + bytes(60),
        prefix_of(old_key),
    )
    assert deployment_of(customer)["osmand_url"] is None
    assert len(device_keys_listed(customer)) == 1, "no second device key is made meanwhile"
    assert customer.client.post("/api/keys/device").status_code == 201
    assert device_key_of(deployment_of(customer)) != old_key

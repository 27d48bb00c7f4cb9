from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given

from tests.support.bad_input import (
    OVER_HTTP,
    assert_clear_error,
    json_media_types,
    nested_json_text,
    nul_strings,
)
from tests.support.clients import api_client
from tests.support.factories import Customer, create_key
from tests.support.platform import wait_for_deployment

SignUp = Callable[..., Customer]


def test_the_full_key_is_shown_once_and_stored_as_a_digest(signup: SignUp) -> None:
    customer = signup()
    created = create_key(customer, "mobile app")
    assert created["key"].startswith(created["prefix"] + "_")
    listed = customer.client.get("/api/keys").json()
    assert listed[0] == {
        "id": created["id"],
        "name": "mobile app",
        "prefix": created["prefix"],
        "scope": "full",
        "created_at": created["created_at"],
        "revoked_at": None,
    }
    # the first key brings the organization's device key along
    assert [(key["name"], key["scope"]) for key in listed[1:]] == [("Devices (OsmAnd)", "ingest")]
    assert created["key"] not in customer.client.get("/api/keys").text


@pytest.mark.parametrize("plan", ["hobby", "starter"])
def test_a_revoked_key_gets_401_on_the_next_request(signup: SignUp, plan: str) -> None:
    customer = signup(plan)
    deployment = wait_for_deployment(customer.client, customer.deployment["id"])
    kept, revoked = create_key(customer, "kept"), create_key(customer, "revoked")
    with (
        api_client(deployment["api_url"], kept["key"]) as kept_client,
        api_client(deployment["api_url"], revoked["key"]) as revoked_client,
    ):
        assert revoked_client.get("/v1/collections").status_code == 200
        response = customer.client.delete(f"/api/keys/{revoked['id']}")
        assert response.status_code == 200
        assert response.json()["revoked_at"] is not None
        assert revoked_client.get("/v1/collections").status_code == 401
        assert kept_client.get("/v1/collections").status_code == 200
    # revoking again changes nothing
    assert customer.client.delete(f"/api/keys/{revoked['id']}").status_code == 200


def test_keys_of_other_organizations_are_out_of_reach(signup: SignUp) -> None:
    owner, stranger = signup(), signup()
    key = create_key(owner)
    assert stranger.client.delete(f"/api/keys/{key['id']}").status_code == 404
    assert stranger.client.get("/api/keys").json() == []
    wait_for_deployment(owner.client, owner.deployment["id"])
    stranger_deployment = wait_for_deployment(stranger.client, stranger.deployment["id"])
    # a key of one tenant does not open another tenant's data
    with api_client(stranger_deployment["api_url"], key["key"]) as data:
        data.put("/v1/collections/mine", json={"schema": "++id"})
    with api_client(stranger_deployment["api_url"], create_key(stranger)["key"]) as data:
        assert data.get("/v1/collections").json() == []


def test_bad_key_requests(signup: SignUp) -> None:
    customer = signup()
    assert customer.client.post("/api/keys", json={"name": ""}).status_code == 422
    assert customer.client.post("/api/keys", json={}).status_code == 422
    assert customer.client.delete("/api/keys/not-a-uuid").status_code == 422


def test_key_names_are_read_whatever_the_letter_case_of_the_media_type(signup: SignUp) -> None:
    customer = signup()

    @OVER_HTTP
    @given(content_type=json_media_types())
    def create(content_type: str) -> None:
        response = customer.client.post(
            "/api/keys", content=b'{"name": "cased"}', headers={"content-type": content_type}
        )
        assert response.status_code == 201, response.text

    create()


def test_deeply_nested_key_requests_get_a_client_error(signup: SignUp) -> None:
    customer = signup()

    @OVER_HTTP
    @given(value=nested_json_text(1, 20_000))
    def create(value: str) -> None:
        response = customer.client.post(
            "/api/keys",
            content=f'{{"name": {value}}}',
            headers={"content-type": "application/json"},
        )
        assert_clear_error(response)

    create()
    assert customer.client.get("/api/keys").json() == []


def test_key_names_postgresql_cannot_store_get_422(signup: SignUp) -> None:
    customer = signup()
    kept = create_key(customer, "kept")

    @OVER_HTTP
    @given(name=nul_strings())
    def create(name: str) -> None:
        response = customer.client.post("/api/keys", json={"name": "k" + name})
        error = assert_clear_error(response, 422)
        assert "name: contains a NUL character (U+0000)" in error["message"]

    create()
    listed = customer.client.get("/api/keys").json()
    assert [key["id"] for key in listed if key["scope"] == "full"] == [kept["id"]]

"""Signup -> provisioning -> key -> data, for a shared and a dedicated plan."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.support.clients import api_client
from tests.support.factories import Customer, create_key
from tests.support.platform import PlatformThread, wait_for_deployment

SignUp = Callable[..., Customer]


@pytest.mark.parametrize(("plan", "mode"), [("hobby", "shared"), ("starter", "dedicated")])
def test_signup_provisions_a_working_backend(
    platform: PlatformThread, signup: SignUp, plan: str, mode: str
) -> None:
    customer = signup(plan)
    assert customer.deployment["status"] == "provisioning"
    assert customer.deployment["mode"] == mode

    deployment = wait_for_deployment(customer.client, customer.deployment["id"])
    assert deployment["error"] is None
    assert all(step["status"] == "done" for step in deployment["steps"])
    api_url, sync_url = deployment["api_url"], deployment["sync_url"]
    assert sync_url == "ws" + api_url.removeprefix("http")
    # the stable URL on the edge, whichever plane serves it
    assert api_url == platform.deployment_url(deployment["id"])

    key = create_key(customer)
    assert key["key"].startswith("whs_live_")
    with api_client(api_url, key["key"]) as data:
        exercise_records(data)


def exercise_records(data: httpx.Client) -> None:
    assert (
        data.put("/v1/collections/posts", json={"schema": "++id, title, authorId"}).status_code
        == 201
    )
    for title, author in [("Hello", "ann"), ("World", "bob"), ("Hi", "ann")]:
        assert (
            data.post(
                "/v1/collections/posts/records", json={"title": title, "authorId": author}
            ).status_code
            == 201
        )
    listing = data.get(
        "/v1/collections/posts/records", params={"authorId": "eq.ann", "order": "title"}
    )
    assert [record["title"] for record in listing.json()] == ["Hello", "Hi"]
    first = listing.json()[0]["id"]
    assert (
        data.patch(f"/v1/collections/posts/records/{first}", json={"title": "Hey"}).json()["title"]
        == "Hey"
    )
    assert data.delete(f"/v1/collections/posts/records/{first}").status_code == 204
    assert [r["title"] for r in data.get("/v1/collections/posts/records").json()] == ["World", "Hi"]


def test_keys_created_before_activation_work_once_active(signup: SignUp) -> None:
    customer = signup()
    early_key = create_key(customer, "created while provisioning")
    deployment = wait_for_deployment(customer.client, customer.deployment["id"])
    with api_client(deployment["api_url"], early_key["key"]) as data:
        assert data.get("/v1/collections").status_code == 200


def test_a_deployment_is_visible_to_its_members_only(signup: SignUp) -> None:
    owner = signup()
    stranger = signup()
    path = f"/api/deployments/{owner.deployment['id']}"
    assert owner.client.get(path).status_code == 200
    response = stranger.client.get(path)
    assert response.status_code == 404
    assert [d["id"] for d in stranger.client.get("/api/deployments").json()] == [
        stranger.deployment["id"]
    ]

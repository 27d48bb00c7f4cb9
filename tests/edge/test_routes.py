"""The edge follows a deployment to whichever plane the control database names, at once."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.edge.conftest import serve_upstream
from tests.support.clients import api_client
from tests.support.factories import Customer, create_key
from tests.support.inspect import query
from tests.support.platform import PlatformThread, wait_for_deployment
from tests.support.polling import wait_until
from webhost.edge.routes import Route, split_target

SignUp = Callable[..., Customer]


def move_plane(platform: PlatformThread, deployment_id: str, plane_url: str) -> None:
    query(
        platform.control_database,
        "UPDATE deployments SET plane_url = $2 WHERE id = $1",
        uuid.UUID(deployment_id),
        plane_url,
    )


def test_a_deployment_moved_to_another_plane_is_followed_by_its_url(
    platform: PlatformThread, signup: SignUp
) -> None:
    customer = signup("hobby")
    deployment = wait_for_deployment(customer.client, customer.deployment["id"])
    key = create_key(customer)["key"]
    [(plane_url,)] = query(
        platform.control_database,
        "SELECT plane_url FROM deployments WHERE id = $1",
        uuid.UUID(deployment["id"]),
    )
    elsewhere = serve_upstream("elsewhere")
    try:
        with api_client(deployment["api_url"], key) as client:
            assert client.get("/v1/collections").status_code == 200
            move_plane(platform, deployment["id"], elsewhere.url)
            moved = wait_until(
                lambda: "path" in (body := client.get("/v1/collections").json()) and body,
                timeout=30,
                message="the edge to follow the move",
            )
            assert moved["path"] == "/v1/collections"
            move_plane(platform, deployment["id"], plane_url)
            wait_until(
                lambda: (
                    client.get("/v1/collections").status_code == 200
                    and isinstance(client.get("/v1/collections").json(), list)
                ),
                timeout=30,
                message="the edge to follow it back",
            )
    finally:
        elsewhere.stop()
    assert httpx.get(f"{platform.edge_url}/health").json() == {"status": "ok"}


@given(
    slug=st.from_regex(r"[0-9a-f]{16}", fullmatch=True),
    rest=st.from_regex(r"(/[A-Za-z0-9._~%-]*)*(\?[A-Za-z0-9=&%]*)?", fullmatch=True),
)
def test_the_target_splits_into_slug_and_the_planes_path(slug: str, rest: str) -> None:
    split = split_target(f"/d/{slug}{rest}")
    assert split is not None
    assert split[0] == slug
    expected = rest if rest.startswith("/") else "/" + rest
    assert split[1] == expected


def test_targets_outside_the_prefix_name_no_deployment() -> None:
    for target in ("/", "/v1/collections", "/d/", "/d", "/d/?x=1", "/dx/abc"):
        assert split_target(target) is None


def test_routes_only_go_to_http_planes() -> None:
    assert Route.from_url("http://10.0.0.5:9100") == Route("10.0.0.5", 9100, "")
    assert Route.from_url("http://plane.internal/base/") == Route("plane.internal", 80, "/base")
    for bad in ("https://plane.internal", "ftp://x", "not a url"):
        with pytest.raises(ValueError, match="http:// planes only"):
            Route.from_url(bad)

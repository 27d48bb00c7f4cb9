"""Key changes travel through the outbox: delivered before the response when the data plane is
reachable, kept and delivered in order by the recovery sweep when it is not."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.clients import api_client
from tests.support.factories import create_key, sign_up
from tests.support.inspect import query
from tests.support.platform import PlatformThread, start_platform, wait_for_deployment
from tests.support.polling import wait_until
from webhost.db.urls import PostgresURL


@pytest.fixture(scope="module")
def planes_down_marker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    marker = tmp_path_factory.mktemp("courier") / "planes-down"
    os.environ["WEBHOST_TEST_PLANES_DOWN"] = str(marker)
    yield marker
    del os.environ["WEBHOST_TEST_PLANES_DOWN"]


@pytest.fixture(scope="module")
def courier_platform(
    postgres_server: PostgresURL,
    tmp_path_factory: pytest.TempPathFactory,
    planes_down_marker: Path,
) -> Iterator[PlatformThread]:
    running = start_platform(
        postgres_server,
        tmp_path_factory.mktemp("courier-platform"),
        "courier",
        provider="tests.support.providers:UnreachablePlanesLocalProvider",
    )
    yield running
    running.stop()


@pytest.fixture
def planes_down(planes_down_marker: Path) -> Iterator[Path]:
    planes_down_marker.touch()
    yield planes_down_marker
    planes_down_marker.unlink(missing_ok=True)


def pending_deliveries(platform: PlatformThread) -> list[tuple[str, int, str | None]]:
    rows = query(
        platform.control_database,
        "SELECT action, attempts, last_error FROM key_deliveries "
        "WHERE delivered_at IS NULL ORDER BY id",
    )
    return [(str(action), int(attempts), error) for action, attempts, error in rows]


def test_changes_a_plane_could_not_take_are_delivered_in_order_once_it_is_back(
    courier_platform: PlatformThread, planes_down: Path
) -> None:
    customer = sign_up(courier_platform.control_url, plan="hobby")
    with customer.client:
        deployment = wait_for_deployment(customer.client, customer.deployment["id"])
        planes_down.unlink()
        kept = create_key(customer, "kept")
        planes_down.touch()
        # made and revoked while the plane is unreachable: both changes wait, in order
        doomed = create_key(customer, "doomed")
        revoked = customer.client.delete(f"/api/keys/{doomed['id']}")
        assert revoked.status_code == 200, revoked.text
        assert revoked.json()["revoked_at"] is not None
        waiting = pending_deliveries(courier_platform)
        assert [action for action, _, _ in waiting] == ["publish", "revoke"]
        assert all("cannot be reached" in (error or "") for _, _, error in waiting[:1])
        with (
            api_client(deployment["api_url"], kept["key"]) as kept_client,
            api_client(deployment["api_url"], doomed["key"]) as doomed_client,
        ):
            assert kept_client.get("/v1/collections").status_code == 200
            assert doomed_client.get("/v1/collections").status_code == 401
            planes_down.unlink()
            wait_until(lambda: not pending_deliveries(courier_platform), timeout=60)
            # the device key came with the first key, and "doomed" ended revoked
            assert kept_client.get("/v1/collections").status_code == 200
            assert doomed_client.get("/v1/collections").status_code == 401


def test_a_reachable_plane_takes_the_change_before_the_response(
    courier_platform: PlatformThread,
) -> None:
    customer = sign_up(courier_platform.control_url, plan="hobby")
    with customer.client:
        deployment = wait_for_deployment(customer.client, customer.deployment["id"])
        key = create_key(customer)
        assert pending_deliveries(courier_platform) == []
        with api_client(deployment["api_url"], key["key"]) as client:
            assert client.get("/v1/collections").status_code == 200
            assert customer.client.delete(f"/api/keys/{key['id']}").status_code == 200
            assert client.get("/v1/collections").status_code == 401
        assert pending_deliveries(courier_platform) == []

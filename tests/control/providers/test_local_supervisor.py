"""A dedicated data plane that dies is started again, on the same port, with the same data."""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Callable
from urllib.parse import urlparse

import httpx

from tests.support.clients import api_client
from tests.support.factories import Customer, create_key
from tests.support.inspect import dataplane_pids, query
from tests.support.platform import PlatformThread, wait_for_deployment
from tests.support.polling import wait_until

SignUp = Callable[..., Customer]


def dataplane_pid(port: int) -> int | None:
    pids = dataplane_pids().get(port, [])
    assert len(pids) <= 1, f"several data planes on port {port}"
    return pids[0] if pids else None


def healthy(api_url: str) -> bool:
    try:
        return httpx.get(f"{api_url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_a_killed_dedicated_data_plane_is_restarted(
    platform: PlatformThread, signup: SignUp
) -> None:
    customer = signup("professional")
    deployment = wait_for_deployment(customer.client, customer.deployment["id"])
    api_url = deployment["api_url"]  # on the edge, which passes requests to the plane's port
    [(plane_url,)] = query(
        platform.control_database,
        "SELECT plane_url FROM deployments WHERE id = $1",
        uuid.UUID(deployment["id"]),
    )
    port = urlparse(plane_url).port
    assert port is not None
    key = create_key(customer)["key"]
    with api_client(api_url, key) as data:
        data.put("/v1/collections/vehicles", json={"schema": "id, plate"})
        data.post("/v1/collections/vehicles/records", json={"id": "v1", "plate": "B-WH 1"})

    first = dataplane_pid(port)
    assert first is not None
    os.kill(first, signal.SIGKILL)

    replacement = wait_until(
        lambda: (pid := dataplane_pid(port)) not in (None, first) and healthy(api_url) and pid,
        timeout=60,
        message="the data plane to come back",
    )
    assert replacement != first
    with api_client(api_url, key) as data:
        assert data.get("/v1/collections/vehicles/records/v1").json()["plate"] == "B-WH 1"

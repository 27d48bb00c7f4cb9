"""The device key's secret is kept sealed and shown to members as a URL; it is never logged."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.dashboard import DashboardUser
from tests.support.database import create_fresh_database
from tests.support.factories import create_key, sign_up
from tests.support.platform import UpProcess, wait_for_deployment
from tests.support.polling import wait_until
from tests.support.servers import free_port
from webhost.db.urls import PostgresURL

_TRACKER_URL = re.compile(r'id="osmand-url-[^"]+">[^<]*/v1/fleet/osmand/(whs_live_\w+)<')


@pytest.mark.slow
def test_device_keys_never_reach_the_logs(postgres_server: PostgresURL, tmp_path: Path) -> None:
    database = create_fresh_database(postgres_server, "logs")
    up = UpProcess(
        tmp_path / "data",
        free_port(),
        free_port(),
        environment={"DATABASE_URL": database.for_libpq(), "WEBHOST_LOG_LEVEL": "debug"},
    )
    device_keys: list[str] = []
    try:
        up.start()
        customer, stranger = sign_up(up.control_url), sign_up(up.control_url)
        with customer.client, stranger.client:
            path = f"/api/deployments/{customer.deployment['id']}"
            wait_for_deployment(customer.client, customer.deployment["id"])
            create_key(customer)
            device_keys.append(customer.client.get(path).json()["osmand_url"].rsplit("/", 1)[1])
            assert customer.client.post("/api/keys/device").status_code == 201
            device_keys.append(customer.client.get(path).json()["osmand_url"].rsplit("/", 1)[1])
            assert stranger.client.get(path).status_code == 404
            assert stranger.client.post("/api/keys/device").status_code == 409

        with DashboardUser(up.control_url) as browser:
            browser.sign_up()
            wait_until(
                lambda: 'data-status="active"' in browser.dashboard(),
                timeout=90,
                message="deployment active on the dashboard",
            )
            browser.create_key("web")
            found = _TRACKER_URL.search(browser.dashboard())
            assert found, "the dashboard shows the tracker URL"
            device_keys.append(found.group(1))
    finally:
        code = up.interrupt() if up.process is not None else None
    assert code == 0, up.text

    logged = up.text + "".join(
        log.read_text(errors="replace") for log in (tmp_path / "data").rglob("*.log")
    )
    assert "deployment active" in logged, "the platform's own log lines were captured"
    assert len(set(device_keys)) == 3
    for key in device_keys:
        assert key not in logged
        assert key.rsplit("_", 1)[1] not in logged, "not even the secret part"

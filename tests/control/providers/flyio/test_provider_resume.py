"""A worker killed inside a Fly.io step is followed by one that finishes without duplicates."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.control.providers.flyio.platforms import app_of, start_fly_platform
from tests.support.factories import sign_up
from tests.support.fakes.cloudflare import FakeCloudflare
from tests.support.fakes.flyio import FakeFly
from tests.support.fly_runtime import REPOSITORY, FlyRuntime
from tests.support.inspect import stop_process
from tests.support.platform import wait_for_deployment
from tests.support.polling import wait_until
from tests.support.servers import free_port
from webhost.db.urls import PostgresURL
from webhost.runtime import Components


@pytest.mark.slow
def test_a_worker_killed_mid_step_resumes_without_a_second_app_volume_or_machine(
    postgres_server: PostgresURL, tmp_path: Path, fake_fly: FakeFly, fake_cloudflare: FakeCloudflare
) -> None:
    runtime = FlyRuntime(fake_fly, free_port()).start()
    platform = start_fly_platform(
        postgres_server,
        tmp_path / "data",
        fake_fly,
        fake_cloudflare,
        "flykill",
        components=Components(worker=False),
        fly_plane_url=runtime.plane_url,
    )
    settings = platform.settings
    assert settings.fly_api_token is not None
    assert settings.cloudflare_api_token is not None
    marker = tmp_path / "paused"
    environment = {
        **os.environ,
        "DATABASE_URL": platform.control_database.for_libpq(),
        "WEBHOST_DATA_DIR": str(settings.data_dir),
        "WEBHOST_WORKER_HEARTBEAT_SECONDS": "0.5",
        "WEBHOST_STALLED_JOB_SECONDS": "3",
        "WEBHOST_LOG_LEVEL": "warning",
        "WEBHOST_PROVIDER": "flyio",
        "WEBHOST_FLY_API_TOKEN": settings.fly_api_token.get_secret_value(),
        "WEBHOST_FLY_API_BASE": settings.fly_api_base,
        "WEBHOST_FLY_ORG": settings.fly_org,
        "WEBHOST_FLY_PLANE_URL": settings.fly_plane_url,
        "WEBHOST_CLOUDFLARE_API_TOKEN": settings.cloudflare_api_token.get_secret_value(),
        "WEBHOST_CLOUDFLARE_ZONE_ID": str(settings.cloudflare_zone_id),
        "WEBHOST_CLOUDFLARE_API_BASE": settings.cloudflare_api_base,
        "WEBHOST_BASE_DOMAIN": str(settings.base_domain),
        "PYTHONPATH": os.pathsep.join([str(REPOSITORY / "src"), str(REPOSITORY)]),
    }
    paused = subprocess.Popen(
        [sys.executable, "-m", "webhost", "worker"],
        env=environment
        | {
            "WEBHOST_PROVIDER": "tests.support.providers:PausingFlyProvider",
            "WEBHOST_TEST_PAUSE_STEP": "fly_machines",
            "WEBHOST_TEST_PAUSE_FILE": str(marker),
        },
    )
    worker: subprocess.Popen[bytes] | None = None
    try:
        customer = sign_up(platform.control_url, plan="professional")
        wait_until(marker.exists, timeout=60, message="worker paused inside fly_machines")
        paused.send_signal(signal.SIGKILL)
        paused.wait(10)

        worker = subprocess.Popen([sys.executable, "-m", "webhost", "worker"], env=environment)
        with customer.client:
            deployment = wait_for_deployment(
                customer.client, customer.deployment["id"], timeout=120
            )
        attempts = {step["name"]: step["attempts"] for step in deployment["steps"]}
        assert attempts.pop("fly_machines") == 2
        assert set(attempts.values()) == {1}

        app = app_of(deployment["id"])
        assert list(fake_fly.apps) == [app]
        assert len(fake_fly.requests_to("POST", "/v1/apps")) == 1
        assert len(fake_fly.apps[app].volumes) == 2
        assert len(fake_fly.apps[app].live_machines()) == 2
        assert len(fake_fly.requests_to("POST", f"/v1/apps/{app}/machines")) == 2
        assert len(fake_cloudflare.records()) == 4  # both names and their validation records
    finally:
        for process in (paused, worker):
            if process is not None:
                stop_process(process)
        platform.stop()
        runtime.stop()

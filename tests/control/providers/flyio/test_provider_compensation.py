"""A Fly.io deployment whose machines Fly.io refuses for good is undone, last step first."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.control.providers.flyio.platforms import app_of, start_fly_platform
from tests.support.factories import sign_up
from tests.support.fakes.cloudflare import FakeCloudflare
from tests.support.fakes.flyio import FakeFly
from tests.support.platform import PlatformThread, wait_for_deployment
from webhost.db.urls import PostgresURL


@pytest.fixture
def fly_platform(
    postgres_server: PostgresURL, tmp_path: Path, fake_fly: FakeFly, fake_cloudflare: FakeCloudflare
) -> Iterator[PlatformThread]:
    running = start_fly_platform(
        postgres_server, tmp_path / "data", fake_fly, fake_cloudflare, "flyundo"
    )
    yield running
    running.stop()


@pytest.mark.slow
def test_machines_refused_for_good_undo_every_step_in_reverse_and_leave_nothing(
    fly_platform: PlatformThread, fake_fly: FakeFly, fake_cloudflare: FakeCloudflare
) -> None:
    fake_fly.fail_next("POST", "/v1/apps/*/machines", 422, times=1000)
    customer = sign_up(fly_platform.control_url, plan="professional")
    with customer.client:
        deployment = wait_for_deployment(
            customer.client, customer.deployment["id"], status="failed", timeout=120
        )
    app = app_of(deployment["id"])
    assert "step 'fly_machines' failed" in deployment["error"]
    assert "HTTP 422" in deployment["error"]
    assert "cleanup incomplete" not in deployment["error"]
    steps = {step["name"]: step for step in deployment["steps"]}
    assert steps["fly_machines"]["attempts"] == 3
    assert [steps[name]["status"] for name in ("fly_app", "fly_secrets", "fly_volumes")] == [
        "undone"
    ] * 3
    assert steps["fly_ips"]["status"] == "undone"

    assert fake_fly.apps == {}
    assert fake_cloudflare.records() == []
    # the deletes, in the order they were sent: both names' certificates, addresses, both
    # regions' volumes, secrets, app
    deletes = [
        (r.method, r.path.removeprefix(f"/v1/apps/{app}").split("/")[1:2])
        for r in fake_fly.requests
        if r.method == "DELETE" or (r.method == "POST" and r.path.endswith("/secrets"))
    ]
    kinds = [path[0] if path else "app" for _, path in deletes]
    assert kinds[0] == "secrets"  # the one set while provisioning
    undo = kinds[1:]
    assert undo == [
        "certificates",
        "certificates",
        "ip_assignments",
        "ip_assignments",
        "volumes",
        "volumes",
        "secrets",
        "app",
    ]
    # the management token is made once and never shows in the deployment's error
    secrets_set = fake_fly.requests_to("POST", f"/v1/apps/{app}/secrets")
    token = secrets_set[0].body["values"]["WEBHOST_DATAPLANE_MANAGEMENT_TOKEN"]
    assert len(token) == 48
    assert token not in deployment["error"]


@pytest.mark.slow
def test_a_shared_plan_is_refused_with_the_reason(fly_platform: PlatformThread) -> None:
    customer = sign_up(fly_platform.control_url, plan="hobby")
    with customer.client:
        deployment = wait_for_deployment(
            customer.client, customer.deployment["id"], status="failed", timeout=120
        )
    assert "the flyio provider hosts dedicated plans only" in deployment["error"]
    assert "'hobby' is shared" in deployment["error"]
    assert deployment["run"]["status"] == "compensated", deployment["error"]

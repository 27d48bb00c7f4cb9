"""A Fly deployment is served only once Fly.io holds a certificate for each of its stable
hostnames: provisioning waits while the DNS-01 validation records propagate, and a certificate
that never comes fails the step with what Fly said, after which everything made is undone."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.control.providers.cloudflare.dns_client import ZONE
from tests.control.providers.flyio.platforms import app_of, start_fly_platform
from tests.support.factories import sign_up
from tests.support.fakes.cloudflare import FakeCloudflare
from tests.support.fakes.flyio import FakeFly
from tests.support.fly_runtime import FlyRuntime
from tests.support.platform import wait_for_deployment
from tests.support.polling import wait_until
from webhost.db.urls import PostgresURL

pytestmark = pytest.mark.slow


class SlowDns:
    """DNS that shows a validation record only from its ``misses + 1``-th lookup on."""

    def __init__(self, cloudflare: FakeCloudflare, misses: int) -> None:
        self.cloudflare = cloudflare
        self.misses = misses
        self.lookups: dict[str, int] = {}
        self.lock = threading.Lock()

    def __call__(self, name: str) -> list[str]:
        with self.lock:
            self.lookups[name] = self.lookups.get(name, 0) + 1
            if self.lookups[name] <= self.misses:
                return []
        return self.cloudflare.cname_targets(name)


def test_provisioning_waits_until_both_certificates_are_issued_before_starting_machines(
    postgres_server: PostgresURL,
    tmp_path: Path,
    fake_fly: FakeFly,
    fake_cloudflare: FakeCloudflare,
    runtime: FlyRuntime,
) -> None:
    platform = start_fly_platform(
        postgres_server,
        tmp_path,
        fake_fly,
        fake_cloudflare,
        "flycerts",
        fly_plane_url=runtime.plane_url,
    )
    slow = SlowDns(fake_cloudflare, misses=3)
    fake_fly.acme_dns = slow
    try:
        customer = sign_up(platform.control_url, plan="starter")
        with customer.client:
            deployment = wait_for_deployment(
                customer.client, customer.deployment["id"], timeout=120
            )
        app = app_of(deployment["id"])
        slug = deployment["id"].replace("-", "")[:16]
        names = [f"{slug}.api.{ZONE}", f"{slug}.sync.{ZONE}"]
        assert slow.lookups == {f"_acme-challenge.{name}": 4 for name in names}
        checks = fake_fly.requests_to("POST", f"/v1/apps/{app}/certificates/*/check")
        assert len(checks) == 8
        assert all(check.status == 200 for check in checks)
        # every check came before the first machine was asked for
        [first_machine, *_] = fake_fly.requests_to("POST", f"/v1/apps/{app}/machines")
        assert max(check.at for check in checks) < first_machine.at
        steps = {step["name"]: step for step in deployment["steps"]}
        assert steps["fly_certificates"]["attempts"] == 1
    finally:
        platform.stop()


def test_a_certificate_never_issued_fails_with_what_fly_said_and_nothing_is_left(
    postgres_server: PostgresURL,
    tmp_path: Path,
    fake_fly: FakeFly,
    fake_cloudflare: FakeCloudflare,
) -> None:
    platform = start_fly_platform(
        postgres_server,
        tmp_path,
        fake_fly,
        fake_cloudflare,
        "flynocert",
        fly_certificate_wait_seconds=0.3,
    )
    fake_fly.acme_dns = lambda name: []  # the validation record never shows
    try:
        customer = sign_up(platform.control_url, plan="starter")
        with customer.client:

            def failed() -> dict[str, object] | None:
                body = customer.client.get(f"/api/deployments/{customer.deployment['id']}").json()
                return body if body["status"] == "failed" else None

            deployment = wait_until(failed, timeout=120, interval=0.2, message="failed")
        slug = str(deployment["id"]).replace("-", "")[:16]
        error = str(deployment["error"])
        assert "step 'fly_certificates' failed" in error
        assert f"has not issued the certificate of {slug}.api.{ZONE} within 0.3 s" in error
        assert "status pending_validation" in error
        assert f"_acme-challenge.{slug}.api.{ZONE}" in error
        assert "cleanup incomplete" not in error
        assert fake_fly.apps == {}
        assert fake_cloudflare.records() == []
        assert fake_fly.requests_to("POST", "/v1/apps/*/machines") == []
    finally:
        platform.stop()

"""A dedicated deployment provisioned on the fake Fly.io and Cloudflare, served by a real plane."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.control.providers.cloudflare.dns_client import ZONE
from tests.control.providers.flyio.platforms import app_of
from tests.support.clients import api_client
from tests.support.factories import create_key, sign_up
from tests.support.fakes.cloudflare import FakeCloudflare
from tests.support.fakes.flyio import FakeFly
from tests.support.fly_runtime import FlyRuntime
from tests.support.platform import PlatformThread, queue_deletion, wait_for_deployment


def machines_of(fake: FakeFly, app: str) -> dict[str, dict[str, Any]]:
    with fake.lock:
        return {
            m.name: {"region": m.region, "config": m.config} for m in fake.apps[app].live_machines()
        }


@pytest.mark.slow
def test_a_professional_deployment_is_an_app_in_two_regions_behind_stable_hostnames(
    fly_platform: PlatformThread,
    fake_fly: FakeFly,
    fake_cloudflare: FakeCloudflare,
    runtime: FlyRuntime,
) -> None:
    # Fly.io answers slowly for a moment: retried, within the steps
    fake_fly.fail_next("POST", "/v1/apps", 429, retry_after="0")
    fake_fly.fail_next("POST", "/v1/apps/*/volumes", 503, times=2)
    customer = sign_up(fly_platform.control_url, plan="professional")
    with customer.client:
        deployment = wait_for_deployment(customer.client, customer.deployment["id"], timeout=120)
        app = app_of(deployment["id"])
        slug = deployment["id"].replace("-", "")[:16]
        assert deployment["api_url"] == f"https://{slug}.api.{ZONE}"
        assert deployment["sync_url"] == f"wss://{slug}.sync.{ZONE}"
        assert [step["name"] for step in deployment["steps"]] == [
            "fly_app",
            "fly_secrets",
            "fly_volumes",
            "fly_ips",
            "fly_certificates",
            "fly_machines",
            "plane_healthy",
            "plane_tenant",
            "stable_hostnames",
        ]
        assert all(step["attempts"] == 1 for step in deployment["steps"])
        assert [r.status for r in fake_fly.requests_to("POST", "/v1/apps")] == [429, 201]
        volume_posts = [r.status for r in fake_fly.requests_to("POST", f"/v1/apps/{app}/volumes")]
        assert volume_posts == [503, 503, 200, 200]

        fly_app = fake_fly.apps[app]
        assert fly_app.org_slug == "webhost-ops"
        assert set(fly_app.secrets) == {"WEBHOST_DATAPLANE_MANAGEMENT_TOKEN"}
        volumes = {(v.name, v.region, v.size_gb) for v in fly_app.volumes.values()}
        assert volumes == {("webhost_data", "iad", 50), ("webhost_data", "fra", 50)}
        assert sorted(ip["ip"].count(":") > 0 for ip in fly_app.ips) == [False, True]
        machines = machines_of(fake_fly, app)
        assert set(machines) == {"plane-primary-iad", "plane-standby-fra"}
        primary = machines["plane-primary-iad"]["config"]
        standby = machines["plane-standby-fra"]["config"]
        assert primary["env"]["WEBHOST_DATAPLANE_TENANT_ID"] == deployment["id"]
        assert primary["guest"] == {"cpu_kind": "performance", "cpus": 1, "memory_mb": 1024}
        assert primary["services"][0]["checks"][0]["path"] == "/health"
        assert standby["services"] == [], "a standby holds no data: never routed to"
        for config in (primary, standby):
            assert "WEBHOST_DATAPLANE_MANAGEMENT_TOKEN" not in config["env"]
        assert runtime.launched == {app: fly_app_primary_id(fake_fly, app)}

        records = {
            (r["name"], r["type"], r["content"], r["proxied"]) for r in fake_cloudflare.records()
        }
        assert records == {
            (f"{slug}.api.{ZONE}", "CNAME", f"{app}.fly.dev", True),
            (f"{slug}.sync.{ZONE}", "CNAME", f"{app}.fly.dev", True),
            # DNS-01 validation of each name's certificate, seen as it is (not proxied)
            (
                f"_acme-challenge.{slug}.api.{ZONE}",
                "CNAME",
                f"{slug}.api.{ZONE}.{app}.flydns.net",
                False,
            ),
            (
                f"_acme-challenge.{slug}.sync.{ZONE}",
                "CNAME",
                f"{slug}.sync.{ZONE}.{app}.flydns.net",
                False,
            ),
        }
        # Fly's proxy holds a certificate for each stable name before Cloudflare sends one
        with fake_fly.lock:
            issued = {name: c["issued"] for name, c in fake_fly.apps[app].certificates.items()}
        assert issued == {f"{slug}.api.{ZONE}": True, f"{slug}.sync.{ZONE}": True}

        # keys reach the plane through the provider: a published key works, a revoked one not
        key = create_key(customer)
        with api_client(runtime.plane_url, key["key"]) as backend:
            assert backend.get("/v1/collections").status_code == 200
            backend.put("/v1/collections/trips", json={"schema": "++id, vehicle"})
            made = backend.post("/v1/collections/trips/records", json={"vehicle": "TRK-1"})
            assert made.status_code == 201, made.text
            # the customer's export reads the machine's plane through the management API
            export = customer.client.get(f"/api/deployments/{deployment['id']}/export")
            assert export.status_code == 200, export.text
            header, *lines = [json.loads(line) for line in export.text.splitlines()]
            assert header["deployment"] == deployment["id"]
            trips = [line["row"] for line in lines if line["table"] == "c_trips"]
            assert [trip["data"]["vehicle"] for trip in trips] == ["TRK-1"]
            revoked = customer.client.delete(f"/api/keys/{key['id']}")
            assert revoked.status_code == 200, revoked.text
            refused = backend.get("/v1/collections")
            assert refused.status_code == 401, refused.text

        # a machine that does not answer: the export is refused for now, never cut off midway
        runtime.stop()
        unreachable = customer.client.get(f"/api/deployments/{deployment['id']}/export")
        assert unreachable.status_code == 503, unreachable.text
        assert unreachable.headers["retry-after"] == "30"
        assert "the export could not start" in unreachable.json()["error"]["message"]


def fly_app_primary_id(fake: FakeFly, app: str) -> str:
    with fake.lock:
        (primary,) = [m.id for m in fake.apps[app].live_machines() if m.name.startswith("plane-p")]
    return primary


@pytest.mark.slow
def test_a_deleted_fly_deployment_leaves_no_app_volume_machine_or_hostname(
    fly_platform: PlatformThread, fake_fly: FakeFly, fake_cloudflare: FakeCloudflare
) -> None:
    customer = sign_up(fly_platform.control_url, plan="starter")
    with customer.client:
        deployment_id = customer.deployment["id"]
        wait_for_deployment(customer.client, deployment_id, timeout=120)
        assert app_of(deployment_id) in fake_fly.apps
        assert len(fake_cloudflare.records()) == 4  # both names and their validation records
        queue_deletion(fly_platform, deployment_id)
        deleted = wait_for_deployment(customer.client, deployment_id, status="deleted", timeout=120)
    assert deleted["run"]["workflow"] == "deprovision"
    assert deleted["run"]["status"] == "succeeded"
    assert all(step["status"] == "undone" for step in deleted["steps"])
    assert fake_fly.apps == {}
    assert fake_cloudflare.records() == []

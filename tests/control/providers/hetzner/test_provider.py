"""Hobby deployments on the hetzner provider, from signup to a key that opens the host's plane:
the fake Hetzner Cloud and Cloudflare, real data planes, the real workflow and worker."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest

from tests.control.providers.hetzner.conftest import BASE_DOMAIN
from tests.control.providers.hetzner.platforms import (
    cloud_counts,
    hosts,
    placements,
    slug_of,
    start_hetzner_platform,
)
from tests.support.clients import api_client
from tests.support.factories import create_key, sign_up
from tests.support.fakes.cloudflare import FakeCloudflare
from tests.support.fakes.hetzner import FakeHetzner
from tests.support.platform import queue_deletion, wait_for_deployment
from tests.support.polling import wait_until
from tests.support.shared_hosts import SharedHostPlanes, origin_tls, written_file
from webhost.control.plans.models import DeploymentMode
from webhost.control.providers.base import DeploymentSpec
from webhost.control.providers.hetzner.cloud_init import TLS_CERTIFICATE
from webhost.db.urls import PostgresURL
from webhost.errors import ProvisioningError

pytestmark = pytest.mark.slow


def test_a_hobby_deployment_runs_on_a_shared_host_and_its_keys_open_that_plane(
    capfd: pytest.CaptureFixture[str],
    postgres_server: PostgresURL,
    tmp_path: Path,
    hetzner: FakeHetzner,
    cloudflare: FakeCloudflare,
    host_planes: SharedHostPlanes,
) -> None:
    platform = start_hetzner_platform(
        postgres_server, tmp_path, hetzner=hetzner, cloudflare=cloudflare, planes=host_planes
    )
    try:
        customer = sign_up(platform.control_url, plan="hobby")
        with customer.client:
            deployment_id = customer.deployment["id"]
            deployment = wait_for_deployment(customer.client, deployment_id)
            slug = slug_of(deployment_id)
            assert deployment["api_url"] == f"https://{slug}.api.{BASE_DOMAIN}"
            assert deployment["sync_url"] == f"wss://{slug}.sync.{BASE_DOMAIN}"

            [(host_id, status, capacity, server_id, address)] = hosts(platform)
            assert (status, capacity) == ("ready", 150)
            assert placements(platform) == {deployment_id: host_id}
            assert cloud_counts(hetzner) == (1, 1, 1)
            server = hetzner.project.servers[server_id]
            assert server["labels"] == {"webhost.host": host_id, "webhost.managed": "true"}
            assert server["public_net"]["ipv4"]["ip"] == address
            # the firewall lets in the web only (no SSH without an operator network)
            [firewall] = hetzner.project.firewalls.values()
            assert sorted(rule["port"] for rule in firewall["rules"]) == ["443", "80"]

            records = {
                (r["name"], r["type"], r["content"], r["proxied"]) for r in cloudflare.records()
            }
            assert records == {
                (f"{slug}.api.{BASE_DOMAIN}", "A", address, True),
                (f"{slug}.sync.{BASE_DOMAIN}", "A", address, True),
                (f"host-{host_id}.{BASE_DOMAIN}", "A", address, True),
            }

            # only the host's cloud-init carries its management token, and the plane took it
            plane = host_planes.planes[host_id]
            assert plane.management_token in hetzner.project.user_data[server_id]

            # the host serves HTTPS with an origin certificate for its names, from user data
            [issued] = cloudflare.origin_ca.live_for(f"host-{host_id}.{BASE_DOMAIN}")
            assert issued["hostnames"] == [
                f"host-{host_id}.{BASE_DOMAIN}",
                f"*.api.{BASE_DOMAIN}",
                f"*.sync.{BASE_DOMAIN}",
            ]
            user_data = hetzner.project.user_data[server_id]
            assert written_file(user_data, TLS_CERTIFICATE) == issued["certificate"]
            assert plane.url.startswith("https://")
            key = create_key(customer)
            trust = origin_tls(cloudflare.origin_ca.ca_pem, check_hostname=False)
            with api_client(plane.url, key["key"], verify=trust) as app:
                assert app.put("/v1/collections/notes", json={"schema": "id"}).status_code == 201
                assert app.get("/v1/collections").status_code == 200
                made = app.post("/v1/collections/notes/records", json={"id": "on the host"})
                assert made.status_code == 201, made.text
                # the customer's export reads the host's plane through the management API
                export = customer.client.get(f"/api/deployments/{deployment_id}/export")
                assert export.status_code == 200, export.text
                header, *rows = [json.loads(line) for line in export.text.splitlines()]
                assert header["deployment"] == deployment_id
                notes = [row["row"]["pk"] for row in rows if row["table"] == "c_notes"]
                assert notes == ["on the host"]
                revoked = customer.client.delete(f"/api/keys/{key['id']}")
                assert revoked.status_code == 200, revoked.text

                def refused() -> bool:
                    return app.get("/v1/collections").status_code == 401

                wait_until(refused, timeout=10, message="the revoked key to be refused")
    finally:
        platform.stop()
    output = capfd.readouterr()
    assert plane.management_token not in output.out + output.err


def test_a_second_host_is_made_when_the_first_is_full(
    postgres_server: PostgresURL,
    tmp_path: Path,
    hetzner: FakeHetzner,
    cloudflare: FakeCloudflare,
    host_planes: SharedHostPlanes,
) -> None:
    platform = start_hetzner_platform(
        postgres_server,
        tmp_path,
        hetzner=hetzner,
        cloudflare=cloudflare,
        planes=host_planes,
        hetzner_tenants_per_host=2,
    )
    try:
        customers = [sign_up(platform.control_url, plan="hobby") for _ in range(3)]
        for customer in customers:
            with customer.client:
                wait_for_deployment(customer.client, customer.deployment["id"])
        made = hosts(platform)
        assert [(status, capacity) for _, status, capacity, _, _ in made] == [
            ("ready", 2),
            ("ready", 2),
        ]
        on = placements(platform)
        assert sorted(list(on.values()).count(host[0]) for host in made) == [1, 2]
        assert cloud_counts(hetzner) == (2, 2, 2)
        # each tenant is on its own host's plane, and only there
        for customer in customers:
            tenant_id = customer.deployment["id"]
            for host_id, plane in host_planes.planes.items():
                with httpx.Client(
                    base_url=plane.url,
                    headers={"Authorization": f"Bearer {plane.management_token}"},
                    verify=origin_tls(cloudflare.origin_ca.ca_pem, check_hostname=False),
                ) as manage:
                    held = manage.get(f"/_manage/v1/tenants/{tenant_id}/holdings").status_code
                assert held == (200 if on[tenant_id] == host_id else 404)
    finally:
        platform.stop()


def test_dedicated_plans_are_refused_with_a_clear_error(
    postgres_server: PostgresURL,
    tmp_path: Path,
    hetzner: FakeHetzner,
    cloudflare: FakeCloudflare,
    host_planes: SharedHostPlanes,
) -> None:
    from tests.control.providers.hetzner.platforms import provider_of

    platform = start_hetzner_platform(
        postgres_server, tmp_path, hetzner=hetzner, cloudflare=cloudflare, planes=host_planes
    )
    try:
        spec = DeploymentSpec(
            id=uuid.uuid4(),
            organization_id=uuid.uuid4(),
            tenant_name="t_0123456789abcdef",
            mode=DeploymentMode.DEDICATED,
            plan_slug="starter",
            provider="hetzner",
            region="iad",
        )
        with pytest.raises(ProvisioningError) as refused:
            provider_of(platform).provision_steps(spec)
        assert "shared plans only" in refused.value.message
        assert "'starter'" in refused.value.message
    finally:
        platform.stop()


def test_a_deleted_hobby_deployment_leaves_its_host_and_nothing_of_itself(
    postgres_server: PostgresURL,
    tmp_path: Path,
    hetzner: FakeHetzner,
    cloudflare: FakeCloudflare,
    host_planes: SharedHostPlanes,
) -> None:
    platform = start_hetzner_platform(
        postgres_server, tmp_path, hetzner=hetzner, cloudflare=cloudflare, planes=host_planes
    )
    try:
        leaving, staying = (sign_up(platform.control_url, plan="hobby") for _ in range(2))
        with staying.client:
            wait_for_deployment(staying.client, staying.deployment["id"])
        [(host_id, *_)] = hosts(platform)
        plane = host_planes.planes[host_id]
        deployment_id = leaving.deployment["id"]
        with leaving.client:
            wait_for_deployment(leaving.client, deployment_id)
            queue_deletion(platform, deployment_id)
            deleted = wait_for_deployment(leaving.client, deployment_id, status="deleted")
        assert deleted["run"]["workflow"] == "deprovision"
        assert all(step["status"] == "undone" for step in deleted["steps"])
        assert placements(platform) == {staying.deployment["id"]: host_id}
        with httpx.Client(
            base_url=plane.url,
            headers={"Authorization": f"Bearer {plane.management_token}"},
            timeout=10,
            verify=origin_tls(cloudflare.origin_ca.ca_pem, check_hostname=False),
        ) as manage:
            gone = manage.get(f"/_manage/v1/tenants/{deployment_id}/holdings")
            assert gone.status_code == 404, gone.text
            kept = manage.get(f"/_manage/v1/tenants/{staying.deployment['id']}/holdings")
            assert kept.status_code == 200, kept.text
        names = {record["name"] for record in cloudflare.records()}
        assert not any(name.startswith(slug_of(deployment_id)) for name in names)
        assert any(name.startswith(slug_of(staying.deployment["id"])) for name in names)
        assert cloud_counts(hetzner) == (1, 1, 1)  # the host serves the other tenant on
    finally:
        platform.stop()

from __future__ import annotations

import pytest

from tests.control.providers.hetzner.conftest import cloud_for
from tests.control.providers.hetzner.hosts import (
    USER_DATA,
    make_firewall,
    make_server,
    make_volume,
    new_host_id,
    run,
)
from tests.support.fakes.hetzner import FakeHetzner
from tests.support.fakes.hetzner_servers import create_server
from webhost.control.providers.hetzner.cloud import HetznerCloud
from webhost.control.providers.hetzner.labels import host_labels
from webhost.errors import ProvisioningError


def test_a_server_is_created_running_behind_its_firewall_with_its_volume(
    hetzner: FakeHetzner, cloud: HetznerCloud
) -> None:
    host = new_host_id()
    firewall = run(make_firewall(cloud, host))
    volume = run(make_volume(cloud, host))

    server = run(cloud.ensure_server(host, host_labels(host), USER_DATA, firewall, volume))

    (created,) = hetzner.requests_to("POST", "/v1/servers")
    assert created.body["server_type"] == "cx22"
    assert created.body["image"] == "debian-12"
    assert created.body["location"] == "fsn1"
    assert created.body["labels"] == host_labels(host)
    assert created.body["firewalls"] == [{"firewall": firewall.id}]
    assert created.body["volumes"] == [volume.id]
    assert created.body["automount"] is False  # cloud-init mounts it where the data plane wants
    assert hetzner.project.user_data[server.id] == USER_DATA
    assert server.status == "running"
    assert server.volume_ids == (volume.id,)
    assert server.firewall_ids == (firewall.id,)
    assert hetzner.project.volumes[volume.id]["server"] == server.id


def test_a_repeated_ensure_finds_the_server(hetzner: FakeHetzner, cloud: HetznerCloud) -> None:
    host = new_host_id()
    first = run(make_server(cloud, host))

    again = run(make_server(cloud, host))

    assert again == first
    assert len(hetzner.project.servers) == 1
    assert len(hetzner.requests_to("POST", "/v1/servers")) == 1


def test_a_lost_answer_to_the_create_leaves_one_server_which_the_retry_waits_for(
    hetzner: FakeHetzner, cloud: HetznerCloud
) -> None:
    host = new_host_id()
    firewall = run(make_firewall(cloud, host))
    volume = run(make_volume(cloud, host))
    hetzner.fail_next("POST", "/v1/servers", status=502, after_handling=True)

    server = run(cloud.ensure_server(host, host_labels(host), USER_DATA, firewall, volume))

    assert list(hetzner.project.servers) == [server.id]
    assert len(hetzner.requests_to("POST", "/v1/servers")) == 1
    # the retry found the server still being created and waited for it rather than repeat it
    assert hetzner.requests_to("GET", f"/v1/servers/{server.id}/actions")
    assert server.status == "running"


def test_a_server_found_switched_off_is_started(hetzner: FakeHetzner, cloud: HetznerCloud) -> None:
    host = new_host_id()
    server = run(make_server(cloud, host))
    hetzner.project.servers[server.id]["status"] = "off"

    again = run(make_server(cloud, host))

    assert again.status == "running"
    assert len(hetzner.requests_to("POST", f"/v1/servers/{server.id}/actions/poweron")) == 1


def test_a_found_server_gets_back_a_detached_volume_and_a_removed_firewall(
    hetzner: FakeHetzner, cloud: HetznerCloud
) -> None:
    host = new_host_id()
    server = run(make_server(cloud, host))
    run(cloud.delete_firewall(host))
    volume_id = server.volume_ids[0]
    run(cloud.delete_volume(host))
    assert hetzner.project.servers[server.id]["volumes"] == []
    assert volume_id not in hetzner.project.volumes

    repaired = run(make_server(cloud, host))

    assert repaired.id == server.id
    assert len(repaired.volume_ids) == 1
    assert len(repaired.firewall_ids) == 1
    assert len(hetzner.requests_to("POST", "/v1/volumes/*/actions/attach")) == 1
    assert len(hetzner.requests_to("POST", "/v1/firewalls/*/actions/apply_to_resources")) == 1


def test_a_volume_attached_to_another_server_is_a_clear_error(
    hetzner: FakeHetzner, cloud: HetznerCloud
) -> None:
    taken, host = new_host_id(), new_host_id()
    run(make_server(cloud, taken))
    volume = run(make_volume(cloud, taken))
    firewall = run(make_firewall(cloud, host))

    with pytest.raises(ProvisioningError, match="is attached to another server"):
        run(cloud.ensure_server(host, host_labels(host), USER_DATA, firewall, volume))


def test_a_failed_create_action_is_a_provisioning_error(
    hetzner: FakeHetzner, cloud: HetznerCloud
) -> None:
    hetzner.fail_next_action("create_server", code="server_error", message="image unpacking failed")

    with pytest.raises(ProvisioningError) as failed:
        run(make_server(cloud, new_host_id()))

    assert "create_server failed (server_error: image unpacking failed)" in failed.value.message


def test_an_action_that_never_finishes_ends_in_an_error(hetzner: FakeHetzner) -> None:
    hetzner.project.action_polls = 1_000_000
    cloud = cloud_for(hetzner, action_timeout_seconds=0.2)

    with pytest.raises(ProvisioningError, match=r"did not finish .* within 0.2 s"):
        run(make_firewall(cloud, new_host_id()))


def test_server_address_is_the_public_ipv4(hetzner: FakeHetzner, cloud: HetznerCloud) -> None:
    host = new_host_id()
    server = run(make_server(cloud, host))

    address = run(cloud.server_address(host))

    assert address == hetzner.project.servers[server.id]["public_net"]["ipv4"]["ip"]


def test_server_address_of_a_host_without_server_is_a_clear_error(cloud: HetznerCloud) -> None:
    with pytest.raises(ProvisioningError, match="has no server in Hetzner Cloud"):
        run(cloud.server_address(new_host_id()))


def test_list_hosts_pages_through_every_managed_server_only(
    hetzner: FakeHetzner, cloud: HetznerCloud
) -> None:
    hetzner.project.max_per_page = 2
    hosts = {new_host_id() for _ in range(3)}
    for host in hosts:
        run(make_server(cloud, host))
    with hetzner.lock:
        body = {"name": "someone-elses", "server_type": "cx22", "image": "debian-12"}
        create_server(hetzner.project, body)

    listed = run(cloud.list_hosts())

    assert {server.labels["webhost.host"] for server in listed} == hosts
    assert {server.name for server in listed} == hosts
    assert len(hetzner.requests_to("GET", "/v1/servers")) >= 2  # more than one page


def test_delete_removes_the_server_and_keeps_its_volume_and_a_second_delete_finds_it_gone(
    hetzner: FakeHetzner, cloud: HetznerCloud
) -> None:
    host = new_host_id()
    server = run(make_server(cloud, host))

    run(cloud.delete_server(host))
    run(cloud.delete_server(host))

    assert hetzner.project.servers == {}
    (volume,) = hetzner.project.volumes.values()
    assert volume["server"] is None
    assert len(hetzner.requests_to("DELETE", f"/v1/servers/{server.id}")) == 1
    assert run(cloud.list_hosts()) == []


def test_user_data_over_hetzners_limit_is_refused_before_any_call(
    hetzner: FakeHetzner, cloud: HetznerCloud
) -> None:
    host = new_host_id()
    firewall = run(make_firewall(cloud, host))
    volume = run(make_volume(cloud, host))
    before = len(hetzner.requests)

    with pytest.raises(ProvisioningError, match="user data is 32769 bytes"):
        run(cloud.ensure_server(host, host_labels(host), "x" * 32_769, firewall, volume))

    assert len(hetzner.requests) == before

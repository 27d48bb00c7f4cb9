from __future__ import annotations

import pytest

from tests.control.providers.hetzner.conftest import cloud_for
from tests.control.providers.hetzner.hosts import make_server, make_volume, new_host_id, run
from tests.support.fakes.hetzner import FakeHetzner
from webhost.control.providers.hetzner.cloud import HetznerCloud
from webhost.control.providers.hetzner.labels import host_labels
from webhost.errors import ProvisioningError


def test_a_volume_is_made_formatted_in_the_servers_location(
    hetzner: FakeHetzner, cloud: HetznerCloud
) -> None:
    host = new_host_id()

    volume = run(make_volume(cloud, host, size_gb=25))

    (created,) = hetzner.requests_to("POST", "/v1/volumes")
    assert created.body["location"] == "fsn1"
    assert created.body["format"] == "ext4"
    assert created.body["labels"] == host_labels(host)
    assert volume.size_gb == 25
    assert volume.location == "fsn1"
    assert volume.linux_device == f"/dev/disk/by-id/scsi-0HC_Volume_{volume.id}"
    assert volume.server_id is None
    # the create action was waited for, so the volume is ready to attach
    assert hetzner.project.volumes[volume.id]["status"] == "available"


def test_a_repeated_ensure_finds_the_volume(hetzner: FakeHetzner, cloud: HetznerCloud) -> None:
    host = new_host_id()
    first = run(make_volume(cloud, host))

    again = run(make_volume(cloud, host))

    assert again == first
    assert len(hetzner.project.volumes) == 1
    assert len(hetzner.requests_to("POST", "/v1/volumes")) == 1


def test_a_larger_size_grows_the_volume_and_a_smaller_one_leaves_it(
    hetzner: FakeHetzner, cloud: HetznerCloud
) -> None:
    host = new_host_id()
    first = run(make_volume(cloud, host, size_gb=20))

    grown = run(make_volume(cloud, host, size_gb=40))
    kept = run(make_volume(cloud, host, size_gb=10))

    assert grown.id == kept.id == first.id
    assert grown.size_gb == kept.size_gb == 40
    assert hetzner.project.volumes[first.id]["size"] == 40
    assert len(hetzner.requests_to("POST", f"/v1/volumes/{first.id}/actions/resize")) == 1


def test_a_volume_in_another_location_is_a_clear_error(hetzner: FakeHetzner) -> None:
    host = new_host_id()
    run(make_volume(cloud_for(hetzner, location="nbg1"), host))

    with pytest.raises(
        ProvisioningError, match=r"is in nbg1, but this host's server is made in fsn1"
    ):
        run(make_volume(cloud_for(hetzner, location="fsn1"), host))


def test_delete_detaches_an_attached_volume_first_and_a_second_delete_finds_it_gone(
    hetzner: FakeHetzner, cloud: HetznerCloud
) -> None:
    host = new_host_id()
    server = run(make_server(cloud, host))
    assert hetzner.project.servers[server.id]["volumes"]

    run(cloud.delete_volume(host))
    run(cloud.delete_volume(host))

    assert hetzner.project.volumes == {}
    assert hetzner.project.servers[server.id]["volumes"] == []
    calls = [(request.method, request.path) for request in hetzner.requests]
    volume_id = server.volume_ids[0]
    detach = calls.index(("POST", f"/v1/volumes/{volume_id}/actions/detach"))
    assert calls.index(("DELETE", f"/v1/volumes/{volume_id}")) > detach
    assert calls.count(("POST", f"/v1/volumes/{volume_id}/actions/detach")) == 1


@pytest.mark.parametrize("size", [0, 9, 10_241, 2.5, True])
def test_a_size_hetzner_cannot_make_is_refused_before_any_call(
    hetzner: FakeHetzner, cloud: HetznerCloud, size: int
) -> None:
    with pytest.raises(ProvisioningError, match="volume"):
        run(cloud.ensure_volume("data", size, host_labels(new_host_id())))

    assert hetzner.requests == []

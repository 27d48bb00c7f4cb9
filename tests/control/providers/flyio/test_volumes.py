"""Volumes, one per machine region, through our client and the fake."""

from __future__ import annotations

import pytest

from tests.control.providers.flyio.helpers import app_name, run
from tests.support.fakes.flyio import FakeFly
from webhost.control.providers.flyio.machines import FlyMachinesApi
from webhost.control.providers.flyio.schemas import FlyVolume
from webhost.errors import ProvisioningError


def new_app(fake: FakeFly) -> str:
    name = app_name()
    run(fake, lambda fly: fly.ensure_app(name))
    return name


def live_volumes(fake: FakeFly, app: str) -> list[tuple[str, str, int]]:
    with fake.lock:
        volumes = fake.apps[app].volumes.values()
        return sorted((v.name, v.region, v.size_gb) for v in volumes if v.state == "created")


def test_ensure_volume_creates_an_encrypted_volume(fake_fly: FakeFly) -> None:
    app = new_app(fake_fly)

    volume = run(fake_fly, lambda fly: fly.ensure_volume(app, "pg_data", "fra", 10))

    assert (volume.name, volume.region, volume.size_gb) == ("pg_data", "fra", 10)
    assert fake_fly.apps[app].volumes[volume.id].encrypted
    assert live_volumes(fake_fly, app) == [("pg_data", "fra", 10)]


def test_a_repeated_ensure_finds_the_volume_by_name_and_region(fake_fly: FakeFly) -> None:
    app = new_app(fake_fly)

    async def scenario(fly: FlyMachinesApi) -> list[FlyVolume]:
        return [
            await fly.ensure_volume(app, "pg_data", "fra", 10),
            await fly.ensure_volume(app, "pg_data", "fra", 10),
            await fly.ensure_volume(app, "pg_data", "iad", 10),
        ]

    fra, fra_again, iad = run(fake_fly, scenario)

    assert fra_again.id == fra.id
    assert iad.id != fra.id
    assert len(fake_fly.requests_to("POST", f"/v1/apps/{app}/volumes")) == 2
    assert live_volumes(fake_fly, app) == [("pg_data", "fra", 10), ("pg_data", "iad", 10)]


def test_a_smaller_volume_is_grown_and_a_larger_one_kept(fake_fly: FakeFly) -> None:
    app = new_app(fake_fly)

    async def scenario(fly: FlyMachinesApi) -> list[FlyVolume]:
        return [
            await fly.ensure_volume(app, "pg_data", "fra", 10),
            await fly.ensure_volume(app, "pg_data", "fra", 20),
            await fly.ensure_volume(app, "pg_data", "fra", 15),
        ]

    created, grown, kept = run(fake_fly, scenario)

    assert created.id == grown.id == kept.id
    assert (grown.size_gb, kept.size_gb) == (20, 20)
    assert len(fake_fly.requests_to("PUT", f"/v1/apps/{app}/volumes/*/extend")) == 1
    assert live_volumes(fake_fly, app) == [("pg_data", "fra", 20)]


def test_a_volume_being_destroyed_is_not_taken_for_the_deployments(fake_fly: FakeFly) -> None:
    app = new_app(fake_fly)

    async def scenario(fly: FlyMachinesApi) -> tuple[FlyVolume, FlyVolume]:
        old = await fly.ensure_volume(app, "pg_data", "fra", 10)
        await fly.delete_volume(app, old.id)
        return old, await fly.ensure_volume(app, "pg_data", "fra", 10)

    old, new = run(fake_fly, scenario)

    assert new.id != old.id
    assert fake_fly.apps[app].volumes[old.id].state == "pending_destroy"


def test_deleting_a_volume_twice_succeeds(fake_fly: FakeFly) -> None:
    app = new_app(fake_fly)

    async def scenario(fly: FlyMachinesApi) -> str:
        volume = await fly.ensure_volume(app, "pg_data", "fra", 10)
        await fly.delete_volume(app, volume.id)
        await fly.delete_volume(app, volume.id)
        return volume.id

    volume_id = run(fake_fly, scenario)

    deletes = fake_fly.requests_to("DELETE", f"/v1/apps/{app}/volumes/{volume_id}")
    assert [r.status for r in deletes] == [200, 404]
    assert live_volumes(fake_fly, app) == []


def test_a_create_whose_answer_was_lost_leaves_one_volume(fake_fly: FakeFly) -> None:
    app = new_app(fake_fly)
    fake_fly.fail_next("POST", f"/v1/apps/{app}/volumes", 500, after_applying=True)

    volume = run(fake_fly, lambda fly: fly.ensure_volume(app, "pg_data", "fra", 10))

    assert live_volumes(fake_fly, app) == [("pg_data", "fra", 10)]
    assert volume.id in fake_fly.apps[app].volumes


def test_a_size_fly_refuses_is_a_clear_error_and_not_retried(fake_fly: FakeFly) -> None:
    app = new_app(fake_fly)

    with pytest.raises(ProvisioningError) as refused:
        run(fake_fly, lambda fly: fly.ensure_volume(app, "pg_data", "fra", 600))

    assert refused.value.message == (
        f"Fly.io refused to create volume pg_data in fra for app {app} (HTTP 400): "
        "size_gb must be at most 500 for this organization"
    )
    assert len(fake_fly.requests_to("POST", f"/v1/apps/{app}/volumes")) == 1
    assert live_volumes(fake_fly, app) == []

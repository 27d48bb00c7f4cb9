"""Data-plane machines, one per region, through our client and the fake."""

from __future__ import annotations

import pytest

from tests.control.providers.flyio.helpers import app_name, plane_config, run
from tests.support.fakes.flyio import FakeFly
from webhost.control.providers.flyio.machines import FlyMachinesApi
from webhost.control.providers.flyio.schemas import FlyMachine
from webhost.errors import ProvisioningError


def new_app_with_volume(fake: FakeFly, region: str = "fra") -> tuple[str, str]:
    name = app_name()

    async def scenario(fly: FlyMachinesApi) -> str:
        await fly.ensure_app(name)
        return (await fly.ensure_volume(name, "pg_data", region, 10)).id

    return name, run(fake, scenario)


def test_a_machine_is_created_and_reaches_started(fake_fly: FakeFly) -> None:
    app, volume_id = new_app_with_volume(fake_fly)

    async def scenario(fly: FlyMachinesApi) -> tuple[FlyMachine, FlyMachine]:
        created = await fly.ensure_machine(app, "plane-fra", "fra", plane_config(volume_id))
        return created, await fly.wait_started(app, created.id, within_seconds=30)

    created, started = run(fake_fly, scenario)

    assert created.state == "created"
    assert (started.id, started.state, started.region) == (created.id, "started", "fra")
    config = fake_fly.apps[app].machines[created.id].config
    assert config["image"] == "registry.fly.io/webhost-dataplane:1.4.2"
    assert config["env"] == {"WEBHOST_TENANT": "t_0123456789abcdef", "WEBHOST_PORT": "8080"}
    assert config["mounts"] == [{"volume": volume_id, "path": "/data"}]
    [service] = config["services"]
    assert service["internal_port"] == 8080
    assert {p["port"]: p["handlers"] for p in service["ports"]} == {
        443: ["tls", "http"],
        80: ["http"],
    }
    assert [(c["type"], c["path"]) for c in service["checks"]] == [("http", "/health")]
    assert fake_fly.apps[app].volumes[volume_id].attached_machine_id == created.id
    assert fake_fly.requests_to("GET", f"/v1/apps/{app}/machines/{created.id}/wait")


def test_a_repeated_ensure_finds_the_machine_and_leaves_it_alone(fake_fly: FakeFly) -> None:
    app, volume_id = new_app_with_volume(fake_fly)
    config = plane_config(volume_id)

    async def scenario(fly: FlyMachinesApi) -> tuple[FlyMachine, FlyMachine]:
        first = await fly.ensure_machine(app, "plane-fra", "fra", config)
        await fly.wait_started(app, first.id, within_seconds=30)
        return first, await fly.ensure_machine(app, "plane-fra", "fra", config)

    first, again = run(fake_fly, scenario)

    assert again.id == first.id
    assert again.instance_id == first.instance_id
    assert len(fake_fly.requests_to("POST", f"/v1/apps/{app}/machines")) == 1
    assert not fake_fly.requests_to("POST", f"/v1/apps/{app}/machines/{first.id}")
    assert fake_fly.apps[app].machines[first.id].updates == 0


def test_a_changed_config_updates_the_machine(fake_fly: FakeFly) -> None:
    app, volume_id = new_app_with_volume(fake_fly)

    async def scenario(fly: FlyMachinesApi) -> tuple[FlyMachine, FlyMachine, FlyMachine]:
        first = await fly.ensure_machine(app, "plane-fra", "fra", plane_config(volume_id))
        image = plane_config(volume_id, image="registry.fly.io/webhost-dataplane:1.5.0")
        updated = await fly.ensure_machine(app, "plane-fra", "fra", image)
        fewer_env = plane_config(
            volume_id, image=image.image, env={"WEBHOST_TENANT": "t_0123456789abcdef"}
        )
        return first, updated, await fly.ensure_machine(app, "plane-fra", "fra", fewer_env)

    first, updated, trimmed = run(fake_fly, scenario)

    assert first.id == updated.id == trimmed.id
    assert len({first.instance_id, updated.instance_id, trimmed.instance_id}) == 3
    machine = fake_fly.apps[app].machines[first.id]
    assert machine.updates == 2
    assert machine.config["image"] == "registry.fly.io/webhost-dataplane:1.5.0"
    assert machine.config["env"] == {"WEBHOST_TENANT": "t_0123456789abcdef"}


def test_a_stopped_machine_is_started_again(fake_fly: FakeFly) -> None:
    app, volume_id = new_app_with_volume(fake_fly)
    config = plane_config(volume_id)
    machine = run(fake_fly, lambda fly: fly.ensure_machine(app, "plane-fra", "fra", config))
    fake_fly.stop_machine(app, machine.id)

    async def scenario(fly: FlyMachinesApi) -> FlyMachine:
        await fly.ensure_machine(app, "plane-fra", "fra", config)
        return await fly.wait_started(app, machine.id, within_seconds=30)

    started = run(fake_fly, scenario)

    assert started.state == "started"
    assert len(fake_fly.requests_to("POST", f"/v1/apps/{app}/machines/{machine.id}/start")) == 1


def test_waiting_gives_up_with_the_state_the_machine_is_in(fake_fly: FakeFly) -> None:
    app, volume_id = new_app_with_volume(fake_fly)
    fake_fly.start_delay = 3600.0
    config = plane_config(volume_id)

    async def scenario(fly: FlyMachinesApi) -> None:
        machine = await fly.ensure_machine(app, "plane-fra", "fra", config)
        await fly.wait_started(app, machine.id, within_seconds=1)

    with pytest.raises(ProvisioningError, match=r"did not start within 1 s: it is created"):
        run(fake_fly, scenario)


def test_machines_in_each_region_are_listed_and_deleted(fake_fly: FakeFly) -> None:
    app, fra_volume = new_app_with_volume(fake_fly, "fra")
    iad_volume = run(fake_fly, lambda fly: fly.ensure_volume(app, "pg_data", "iad", 10)).id

    async def scenario(fly: FlyMachinesApi) -> tuple[list[str], list[str]]:
        fra = await fly.ensure_machine(app, "plane-fra", "fra", plane_config(fra_volume))
        await fly.ensure_machine(app, "plane-iad", "iad", plane_config(iad_volume))
        listed = sorted(f"{m.name}@{m.region}" for m in await fly.list_machines(app))
        await fly.wait_started(app, fra.id, within_seconds=30)
        await fly.delete_machine(app, fra.id)
        await fly.delete_machine(app, fra.id)
        return listed, [m.name or "" for m in await fly.list_machines(app)]

    listed, remaining = run(fake_fly, scenario)

    assert listed == ["plane-fra@fra", "plane-iad@iad"]
    assert remaining == ["plane-iad"]
    deletes = fake_fly.requests_to("DELETE", f"/v1/apps/{app}/machines/*")
    assert [r.status for r in deletes] == [200, 404]
    assert all(r.query == {"force": "true"} for r in deletes)
    assert fake_fly.apps[app].volumes[fra_volume].attached_machine_id is None


def test_a_machine_of_that_name_in_another_region_is_reported(fake_fly: FakeFly) -> None:
    app, volume_id = new_app_with_volume(fake_fly, "fra")
    config = plane_config(volume_id)
    run(fake_fly, lambda fly: fly.ensure_machine(app, "plane", "fra", config))

    with pytest.raises(ProvisioningError, match=f"machine plane of app {app} runs in fra, not iad"):
        run(fake_fly, lambda fly: fly.ensure_machine(app, "plane", "iad", config))


def test_the_secrets_version_is_passed_on_so_the_machine_gets_new_secrets(
    fake_fly: FakeFly,
) -> None:
    app, volume_id = new_app_with_volume(fake_fly)

    async def scenario(fly: FlyMachinesApi) -> int:
        version = await fly.set_secrets(app, {"PLANE_DATABASE_PASSWORD": "pw"})
        await fly.ensure_machine(
            app, "plane-fra", "fra", plane_config(volume_id), min_secrets_version=version
        )
        return version

    version = run(fake_fly, scenario)

    [create] = fake_fly.requests_to("POST", f"/v1/apps/{app}/machines")
    assert create.body["min_secrets_version"] == version == 1


def test_a_config_fly_refuses_is_a_clear_error(fake_fly: FakeFly) -> None:
    app, _ = new_app_with_volume(fake_fly, "fra")

    with pytest.raises(ProvisioningError) as refused:
        run(
            fake_fly,
            lambda fly: fly.ensure_machine(app, "plane-fra", "fra", plane_config("vol_missing")),
        )

    assert refused.value.message == (
        f"Fly.io refused to create machine plane-fra in fra for app {app} (HTTP 400): "
        "volume vol_missing not found"
    )

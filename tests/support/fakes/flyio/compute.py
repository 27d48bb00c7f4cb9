"""Volumes and machines of the fake Fly.io Machines API, with the API's rules: volumes of one
name may coexist, volumes being destroyed stay listed for a while, a machine mounts a live
volume of its own region that no other machine holds, machines go created -> starting ->
started after ``start_delay`` (an update restarts them), and a running machine is destroyed
only with ``force``. Callers hold ``FakeFly.lock``."""

from __future__ import annotations

import copy
import re
import secrets
from typing import Any

from tests.support.fakes.flyio.records import (
    REGIONS,
    FakeApp,
    FakeMachine,
    FakeVolume,
    FlyError,
    now_iso,
)
from tests.support.fakes.flyio.state import FakeFly

MAX_VOLUME_GB = 500
_VOLUME_NAME = re.compile(r"[a-z0-9_]{1,30}")


def list_volumes(fly: FakeFly, app_name: str) -> list[dict[str, Any]]:
    return [volume.to_json() for volume in fly.app(app_name).volumes.values()]


def create_volume(fly: FakeFly, app_name: str, body: dict[str, Any]) -> dict[str, Any]:
    app = fly.app(app_name)
    name, region, size_gb = body.get("name"), body.get("region"), body.get("size_gb", 3)
    if not isinstance(name, str) or not _VOLUME_NAME.fullmatch(name):
        raise FlyError(400, "name must be 1-30 lowercase alphanumeric characters or underscores")
    _check_region(region)
    if not isinstance(size_gb, int) or isinstance(size_gb, bool) or size_gb < 1:
        raise FlyError(400, "size_gb must be a positive integer")
    if size_gb > MAX_VOLUME_GB:
        raise FlyError(400, f"size_gb must be at most {MAX_VOLUME_GB} for this organization")
    volume = FakeVolume(
        id=f"vol_{secrets.token_hex(8)}",
        name=name,
        region=str(region),
        size_gb=size_gb,
        encrypted=bool(body.get("encrypted", True)),
        created_at=now_iso(),
    )
    app.volumes[volume.id] = volume
    return volume.to_json()


def extend_volume(
    fly: FakeFly, app_name: str, volume_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    volume = _live_volume(fly.app(app_name), volume_id)
    size_gb = body.get("size_gb")
    if not isinstance(size_gb, int) or size_gb <= volume.size_gb:
        raise FlyError(400, f"size_gb must be larger than the current {volume.size_gb}")
    if size_gb > MAX_VOLUME_GB:
        raise FlyError(400, f"size_gb must be at most {MAX_VOLUME_GB} for this organization")
    volume.size_gb = size_gb
    return {"volume": volume.to_json(), "needs_restart": volume.attached_machine_id is not None}


def delete_volume(fly: FakeFly, app_name: str, volume_id: str) -> dict[str, Any]:
    volume = _live_volume(fly.app(app_name), volume_id)
    volume.state = "pending_destroy"
    volume.attached_machine_id = None
    return volume.to_json()


def list_machines(fly: FakeFly, app_name: str) -> list[dict[str, Any]]:
    return [m.to_json(fly.start_delay) for m in fly.app(app_name).live_machines()]


def create_machine(fly: FakeFly, app_name: str, body: dict[str, Any]) -> dict[str, Any]:
    app = fly.app(app_name)
    region = body.get("region", "iad")
    _check_region(region)
    name = body.get("name") or f"machine-{next(fly.serial)}"
    if any(m.name == name for m in app.live_machines()):
        raise FlyError(409, f"a machine named {name} already exists in this app")
    config = _stored_config(body.get("config"))
    machine = FakeMachine(
        id=secrets.token_hex(7),
        name=str(name),
        region=str(region),
        config=config,
        private_ip=f"fdaa:0:1:a7b:{next(fly.serial):x}:{secrets.token_hex(2)}::2",
        created_at=now_iso(),
    )
    _attach_volumes(app, machine)
    app.machines[machine.id] = machine
    return machine.to_json(fly.start_delay)


def show_machine(fly: FakeFly, app_name: str, machine_id: str) -> dict[str, Any]:
    return _live_machine(fly.app(app_name), machine_id).to_json(fly.start_delay)


def machine_state(fly: FakeFly, app_name: str, machine_id: str) -> str:
    return _live_machine(fly.app(app_name), machine_id).state(fly.start_delay)


def update_machine(
    fly: FakeFly, app_name: str, machine_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    app = fly.app(app_name)
    machine = _live_machine(app, machine_id)
    config = _stored_config(body.get("config"))
    previous = machine.config
    machine.config = config
    try:
        _attach_volumes(app, machine)
    except FlyError:
        machine.config = previous
        raise
    machine.updates += 1
    machine.launch("starting")
    return machine.to_json(fly.start_delay)


def start_machine(fly: FakeFly, app_name: str, machine_id: str) -> dict[str, Any]:
    machine = _live_machine(fly.app(app_name), machine_id)
    previous = machine.state(fly.start_delay)
    if previous in ("stopped", "suspended"):
        machine.launch("starting")
    return {"previous_state": previous, "migrated": False, "new_host": ""}


def destroy_machine(fly: FakeFly, app_name: str, machine_id: str, force: bool) -> dict[str, Any]:
    app = fly.app(app_name)
    machine = _live_machine(app, machine_id)
    if machine.state(fly.start_delay) != "stopped" and not force:
        raise FlyError(412, "failed_precondition: machine still active, refusing to destroy")
    machine.destroyed = True
    for volume in app.volumes.values():
        if volume.attached_machine_id == machine.id:
            volume.attached_machine_id = None
    return {"ok": True}


def _check_region(region: object) -> None:
    if region not in REGIONS:
        raise FlyError(400, f"region {region!r} is not a Fly.io region")


def _live_volume(app: FakeApp, volume_id: str) -> FakeVolume:
    volume = app.volumes.get(volume_id)
    if volume is None or volume.state != "created":
        raise FlyError(404, "volume not found")
    return volume


def _live_machine(app: FakeApp, machine_id: str) -> FakeMachine:
    machine = app.machines.get(machine_id)
    if machine is None or machine.destroyed:
        raise FlyError(404, "machine not found")
    return machine


def _stored_config(config: object) -> dict[str, Any]:
    """The config as the API keeps and shows it: defaults filled in, autostop as a boolean."""
    if not isinstance(config, dict):
        raise FlyError(400, "config is required")
    if not isinstance(config.get("image"), str) or not config["image"]:
        raise FlyError(400, "invalid config.image: an image is required")
    stored = copy.deepcopy(config)
    stored.setdefault("init", {})
    for service in stored.get("services") or []:
        if service.get("autostop") in ("off", "stop"):
            service["autostop"] = service["autostop"] == "stop"
        service.setdefault("force_instance_key", None)
    return stored


def _attach_volumes(app: FakeApp, machine: FakeMachine) -> None:
    mounts = machine.config.get("mounts") or []
    wanted = [mount.get("volume") for mount in mounts]
    for volume_id in wanted:
        volume = app.volumes.get(str(volume_id))
        if volume is None or volume.state != "created":
            raise FlyError(400, f"volume {volume_id} not found")
        if volume.region != machine.region:
            raise FlyError(
                400, f"volume {volume_id} is in region {volume.region}, not {machine.region}"
            )
        holder = volume.attached_machine_id
        if holder is not None and holder != machine.id and not app.machines[holder].destroyed:
            raise FlyError(400, f"volume {volume_id} is attached to machine {holder}")
    for volume in app.volumes.values():
        if volume.attached_machine_id == machine.id and volume.id not in wanted:
            volume.attached_machine_id = None
        if volume.id in wanted:
            volume.attached_machine_id = machine.id

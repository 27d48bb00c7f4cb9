"""The fake's /v1/volumes endpoints."""

from __future__ import annotations

from typing import Any

from tests.support.fakes.hetzner_project import LOCATIONS, FakeProject, Json, now
from tests.support.fakes.hetzner_rules import ApiError, check_labels, check_name, invalid
from tests.support.fakes.hetzner_servers import Answer, attach_volume


def list_volumes(project: FakeProject, query: dict[str, list[str]]) -> Answer:
    return 200, project.listing("volumes", project.volumes, query)


def _size(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 10 <= value <= 10_240:
        raise invalid("size", "must be between 10 and 10240 GB")
    return value


def create_volume(project: FakeProject, body: dict[str, Any]) -> Answer:
    name = check_name(body.get("name"))
    project.check_unique(project.volumes, name, "volume")
    size = _size(body.get("size"))
    labels = check_labels(body.get("labels", {}))
    server = None
    if body.get("server") is not None:
        server = project.find(project.servers, body["server"], "server")
        location = server["location"]
    elif body.get("location") is not None:
        location = project.lookup(LOCATIONS, body["location"], "location")
    else:
        raise invalid("location", "either location or server is required")
    if body.get("format") not in (None, "ext4", "xfs"):
        raise invalid("format", "must be ext4 or xfs")
    volume_id = project.next_id()
    volume: Json = {
        "id": volume_id,
        "name": name,
        "server": None,
        "created": now(),
        "location": location,
        "size": size,
        "linux_device": f"/dev/disk/by-id/scsi-0HC_Volume_{volume_id}",
        "format": body.get("format"),
        "protection": {"delete": False},
        "labels": labels,
        "status": "creating",
    }
    project.volumes[volume_id] = volume

    def available() -> None:
        volume["status"] = "available"

    action = project.action("create_volume", [(volume_id, "volume")], available)
    next_actions = [attach_volume(project, volume, server)] if server is not None else []
    return 201, {"volume": volume, "action": action, "next_actions": next_actions}


def get_volume(project: FakeProject, volume_id: int) -> Answer:
    return 200, {"volume": project.find(project.volumes, volume_id, "volume")}


def update_volume(project: FakeProject, volume_id: int, body: dict[str, Any]) -> Answer:
    volume = project.find(project.volumes, volume_id, "volume")
    if "name" in body:
        name = check_name(body["name"])
        project.check_unique(project.volumes, name, "volume", volume_id)
        volume["name"] = name
    if "labels" in body:
        volume["labels"] = check_labels(body["labels"])
    return 200, {"volume": volume}


def delete_volume(project: FakeProject, volume_id: int) -> Answer:
    volume = project.find(project.volumes, volume_id, "volume")
    if volume["server"] is not None:
        raise ApiError("volume_already_attached", "volume is attached to a server, detach it first")
    del project.volumes[volume_id]
    return 204, None


def attach(project: FakeProject, volume_id: int, body: dict[str, Any]) -> Answer:
    volume = project.find(project.volumes, volume_id, "volume")
    server = project.find(project.servers, body.get("server"), "server")
    return 201, {"action": attach_volume(project, volume, server)}


def detach(project: FakeProject, volume_id: int, body: dict[str, Any]) -> Answer:
    volume = project.find(project.volumes, volume_id, "volume")
    server_id = volume["server"]
    if server_id is None:
        raise invalid("server", "volume is not attached to a server")
    volume["server"] = None
    server = project.servers.get(server_id)
    if server is not None:
        server["volumes"].remove(volume_id)
    resources = [(volume_id, "volume"), (server_id, "server")]
    return 201, {"action": project.action("detach_volume", resources)}


def resize(project: FakeProject, volume_id: int, body: dict[str, Any]) -> Answer:
    volume = project.find(project.volumes, volume_id, "volume")
    size = _size(body.get("size"))
    if size <= volume["size"]:
        raise invalid("size", "a volume can only grow")
    volume["size"] = size
    return 201, {"action": project.action("resize_volume", [(volume_id, "volume")])}

"""The fake's /v1/servers endpoints (and the side effects on volumes and firewalls)."""

from __future__ import annotations

from typing import Any

from tests.support.fakes.hetzner_project import (
    IMAGES,
    LOCATIONS,
    SERVER_TYPES,
    FakeProject,
    Json,
    now,
)
from tests.support.fakes.hetzner_rules import ApiError, check_labels, check_server_name, invalid

Answer = tuple[int, Json | None]
MAX_USER_DATA_BYTES = 32 * 1024


def apply_firewall(project: FakeProject, firewall: Json, server: Json) -> Json:
    applied = {"type": "server", "server": {"id": server["id"]}}
    if applied in firewall["applied_to"]:
        raise ApiError("firewall_already_applied", "firewall is already applied to the server")
    firewall["applied_to"].append(applied)
    server["public_net"]["firewalls"].append({"id": firewall["id"], "status": "applied"})
    return project.action(
        "apply_firewall", [(firewall["id"], "firewall"), (server["id"], "server")]
    )


def remove_firewall(project: FakeProject, firewall: Json, server_id: int) -> Json:
    firewall["applied_to"] = [
        applied for applied in firewall["applied_to"] if applied["server"]["id"] != server_id
    ]
    server = project.servers.get(server_id)
    if server is not None:
        server["public_net"]["firewalls"] = [
            applied
            for applied in server["public_net"]["firewalls"]
            if applied["id"] != firewall["id"]
        ]
    return project.action("remove_firewall", [(firewall["id"], "firewall"), (server_id, "server")])


def attach_volume(project: FakeProject, volume: Json, server: Json) -> Json:
    if volume["server"] is not None:
        raise ApiError("volume_already_attached", "volume is already attached to a server")
    if volume["location"]["name"] != server["location"]["name"]:
        raise invalid("server", "server and volume must be in the same location")
    volume["server"] = server["id"]
    server["volumes"].append(volume["id"])
    return project.action("attach_volume", [(volume["id"], "volume"), (server["id"], "server")])


def list_servers(project: FakeProject, query: dict[str, list[str]]) -> Answer:
    return 200, project.listing("servers", project.servers, query)


def create_server(project: FakeProject, body: dict[str, Any]) -> Answer:
    name = check_server_name(body.get("name"))
    project.check_unique(project.servers, name, "server")
    server_type = project.lookup(SERVER_TYPES, body.get("server_type"), "server_type")
    image = project.lookup(IMAGES, body.get("image"), "image")
    location = project.lookup(LOCATIONS, body.get("location", "fsn1"), "location")
    labels = check_labels(body.get("labels", {}))
    user_data = body.get("user_data")
    if user_data is not None and len(str(user_data).encode()) > MAX_USER_DATA_BYTES:
        raise invalid("user_data", "must be at most 32 KiB")
    volumes = [project.find(project.volumes, id, "volume") for id in body.get("volumes", [])]
    firewalls = [
        project.find(project.firewalls, entry.get("firewall"), "firewall")
        for entry in body.get("firewalls", [])
    ]
    for volume in volumes:
        if volume["server"] is not None:
            raise ApiError("volume_already_attached", "volume is already attached to a server")
    server_id = project.next_id()
    server: Json = {
        "id": server_id,
        "name": name,
        "status": "initializing",
        "created": now(),
        "public_net": project.addresses(server_id),
        "private_net": [],
        "server_type": server_type,
        "location": location,
        "image": image,
        "iso": None,
        "rescue_enabled": False,
        "locked": False,
        "backup_window": None,
        "outgoing_traffic": 0,
        "ingoing_traffic": 0,
        "included_traffic": 21_990_232_555_520,
        "protection": {"delete": False, "rebuild": False},
        "labels": labels,
        "volumes": [],
        "load_balancers": [],
        "primary_disk_size": server_type["disk"],
        "placement_group": None,
    }
    project.servers[server_id] = server
    project.user_data[server_id] = user_data or ""

    def created() -> None:
        if server["status"] == "initializing":
            server["status"] = "off"

    def started() -> None:
        server["status"] = "running"

    action = project.action("create_server", [(server_id, "server")], created)
    next_actions = [attach_volume(project, volume, server) for volume in volumes]
    next_actions += [apply_firewall(project, firewall, server) for firewall in firewalls]
    if body.get("start_after_create", True):
        next_actions.append(project.action("start_server", [(server_id, "server")], started))
    answer = {"server": server, "action": action, "next_actions": next_actions}
    return 201, {**answer, "root_password": None}


def get_server(project: FakeProject, server_id: int) -> Answer:
    return 200, {"server": project.find(project.servers, server_id, "server")}


def update_server(project: FakeProject, server_id: int, body: dict[str, Any]) -> Answer:
    server = project.find(project.servers, server_id, "server")
    if "name" in body:
        name = check_server_name(body["name"])
        project.check_unique(project.servers, name, "server", server_id)
        server["name"] = name
    if "labels" in body:
        server["labels"] = check_labels(body["labels"])
    return 200, {"server": server}


def delete_server(project: FakeProject, server_id: int) -> Answer:
    server = project.find(project.servers, server_id, "server")
    for volume in project.volumes.values():
        if volume["server"] == server_id:
            volume["server"] = None
    for firewall in project.firewalls.values():
        firewall["applied_to"] = [
            applied for applied in firewall["applied_to"] if applied["server"]["id"] != server_id
        ]
    del project.servers[server_id]
    return 200, {"action": project.action("delete_server", [(server["id"], "server")])}


def power_on(project: FakeProject, server_id: int) -> Answer:
    server = project.find(project.servers, server_id, "server")
    if server["status"] == "off":
        server["status"] = "starting"

    def started() -> None:
        server["status"] = "running"

    return 201, {"action": project.action("start_server", [(server_id, "server")], started)}


def server_actions(project: FakeProject, server_id: int, query: dict[str, list[str]]) -> Answer:
    project.find(project.servers, server_id, "server")
    return 200, project.actions_of("server", server_id, query)

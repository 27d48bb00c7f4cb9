"""The fake's /v1/firewalls endpoints."""

from __future__ import annotations

from typing import Any

from tests.support.fakes.hetzner_project import FakeProject, Json, now
from tests.support.fakes.hetzner_rules import (
    ApiError,
    check_labels,
    check_name,
    check_rules,
    invalid,
)
from tests.support.fakes.hetzner_servers import Answer, apply_firewall, remove_firewall


def list_firewalls(project: FakeProject, query: dict[str, list[str]]) -> Answer:
    return 200, project.listing("firewalls", project.firewalls, query)


def _servers(project: FakeProject, resources: object, field: str) -> list[Json]:
    if not isinstance(resources, list):
        raise invalid(field, "must be a list")
    servers = []
    for resource in resources:
        if not isinstance(resource, dict) or resource.get("type") != "server":
            raise invalid(field, "only resources of type server are supported here")
        server_id = (resource.get("server") or {}).get("id")
        if server_id not in project.servers:
            raise ApiError("firewall_resource_not_found", f"server {server_id!r} not found")
        servers.append(project.servers[server_id])
    return servers


def create_firewall(project: FakeProject, body: dict[str, Any]) -> Answer:
    name = check_name(body.get("name"))
    project.check_unique(project.firewalls, name, "firewall")
    rules = check_rules(body.get("rules", []))
    labels = check_labels(body.get("labels", {}))
    servers = _servers(project, body.get("apply_to", []), "apply_to")
    firewall_id = project.next_id()
    firewall: Json = {
        "id": firewall_id,
        "name": name,
        "labels": labels,
        "rules": rules,
        "applied_to": [],
        "created": now(),
    }
    project.firewalls[firewall_id] = firewall
    actions = [project.action("set_firewall_rules", [(firewall_id, "firewall")])] if rules else []
    actions += [apply_firewall(project, firewall, server) for server in servers]
    return 201, {"firewall": firewall, "actions": actions}


def get_firewall(project: FakeProject, firewall_id: int) -> Answer:
    return 200, {"firewall": project.find(project.firewalls, firewall_id, "firewall")}


def update_firewall(project: FakeProject, firewall_id: int, body: dict[str, Any]) -> Answer:
    firewall = project.find(project.firewalls, firewall_id, "firewall")
    if "name" in body:
        name = check_name(body["name"])
        project.check_unique(project.firewalls, name, "firewall", firewall_id)
        firewall["name"] = name
    if "labels" in body:
        firewall["labels"] = check_labels(body["labels"])
    return 200, {"firewall": firewall}


def delete_firewall(project: FakeProject, firewall_id: int) -> Answer:
    firewall = project.find(project.firewalls, firewall_id, "firewall")
    if firewall["applied_to"]:
        raise ApiError("resource_in_use", "firewall is still applied to resources")
    del project.firewalls[firewall_id]
    return 204, None


def set_rules(project: FakeProject, firewall_id: int, body: dict[str, Any]) -> Answer:
    firewall = project.find(project.firewalls, firewall_id, "firewall")
    firewall["rules"] = check_rules(body.get("rules"))
    return 201, {"actions": [project.action("set_firewall_rules", [(firewall_id, "firewall")])]}


def apply_to_resources(project: FakeProject, firewall_id: int, body: dict[str, Any]) -> Answer:
    firewall = project.find(project.firewalls, firewall_id, "firewall")
    servers = _servers(project, body.get("apply_to"), "apply_to")
    return 201, {"actions": [apply_firewall(project, firewall, server) for server in servers]}


def remove_from_resources(project: FakeProject, firewall_id: int, body: dict[str, Any]) -> Answer:
    firewall = project.find(project.firewalls, firewall_id, "firewall")
    resources = body.get("remove_from")
    if not isinstance(resources, list):
        raise invalid("remove_from", "must be a list")
    servers = [
        project.find(project.servers, (resource.get("server") or {}).get("id"), "server")
        for resource in resources
    ]
    return 201, {
        "actions": [remove_firewall(project, firewall, server["id"]) for server in servers]
    }

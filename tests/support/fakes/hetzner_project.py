"""The fake Hetzner Cloud project's state: resources in the API's JSON shape, and actions.

Actions start ``running`` and finish when polled (``GET /v1/actions/{id}``) ``action_polls``
times, so a client that does not wait for them sees resources still in their first state.
"""

from __future__ import annotations

import ipaddress
import itertools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.support.fakes.hetzner_rules import ApiError, invalid, label_selector

Json = dict[str, Any]

LOCATIONS: dict[str, Json] = {
    name: {
        "id": index,
        "name": name,
        "description": f"{city} DC Park 1",
        "country": country,
        "city": city,
        "latitude": 0.0,
        "longitude": 0.0,
        "network_zone": zone,
    }
    for index, (name, city, country, zone) in enumerate(
        [
            ("fsn1", "Falkenstein", "DE", "eu-central"),
            ("nbg1", "Nuremberg", "DE", "eu-central"),
            ("hel1", "Helsinki", "FI", "eu-central"),
            ("ash", "Ashburn, VA", "US", "us-east"),
        ],
        start=1,
    )
}
SERVER_TYPES: dict[str, Json] = {
    name: {
        "id": index,
        "name": name,
        "description": name.upper(),
        "cores": cores,
        "memory": memory,
        "disk": disk,
        "prices": [],
        "storage_type": "local",
        "cpu_type": "shared",
        "architecture": architecture,
        "deprecated": False,
        "deprecation": None,
    }
    for index, (name, cores, memory, disk, architecture) in enumerate(
        [("cx22", 2, 4.0, 40, "x86"), ("cpx11", 2, 2.0, 40, "x86"), ("cax11", 2, 4.0, 40, "arm")],
        start=1,
    )
}
IMAGES: dict[str, Json] = {
    name: {
        "id": index,
        "name": name,
        "type": "system",
        "status": "available",
        "description": name,
        "os_flavor": name.split("-")[0],
        "os_version": name.split("-")[1],
        "architecture": "x86",
        "rapid_deploy": True,
        "disk_size": 5,
        "labels": {},
        "protection": {"delete": False},
        "deprecated": None,
    }
    for index, name in enumerate(["debian-12", "debian-13", "ubuntu-24.04"], start=1)
}


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class FakeAction:
    data: Json
    polls_left: int
    on_success: Callable[[], None] | None = None
    fails_with: tuple[str, str] | None = None


@dataclass
class FakeProject:
    action_polls: int = 1
    max_per_page: int = 50
    servers: dict[int, Json] = field(default_factory=dict)
    volumes: dict[int, Json] = field(default_factory=dict)
    firewalls: dict[int, Json] = field(default_factory=dict)
    actions: dict[int, FakeAction] = field(default_factory=dict)
    user_data: dict[int, str] = field(default_factory=dict)
    failing_commands: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def next_id(self) -> int:
        return next(self._ids)

    # actions

    def action(
        self,
        command: str,
        resources: Iterable[tuple[int, str]],
        on_success: Callable[[], None] | None = None,
    ) -> Json:
        action_id = self.next_id()
        data = {
            "id": action_id,
            "command": command,
            "status": "running",
            "progress": 0,
            "started": now(),
            "finished": None,
            "resources": [{"id": id, "type": kind} for id, kind in resources],
            "error": None,
        }
        failures = self.failing_commands.get(command) or []
        fake = FakeAction(
            data, self.action_polls, on_success, failures.pop(0) if failures else None
        )
        self.actions[action_id] = fake
        if fake.polls_left <= 0:
            self._finish(fake)
        return dict(data)

    def _finish(self, action: FakeAction) -> None:
        action.data.update(progress=100, finished=now())
        if action.fails_with is not None:
            code, message = action.fails_with
            action.data.update(status="error", error={"code": code, "message": message})
            return
        action.data["status"] = "success"
        if action.on_success is not None:
            action.on_success()

    def poll_action(self, action_id: int) -> Json:
        action = self.actions.get(action_id)
        if action is None:
            raise ApiError("not_found", "action not found")
        if action.data["status"] == "running":
            action.polls_left -= 1
            action.data["progress"] = 50
            if action.polls_left <= 0:
                self._finish(action)
        return dict(action.data)

    def actions_of(self, kind: str, resource_id: int, query: dict[str, list[str]]) -> Json:
        statuses = set(query.get("status") or [])
        found = [
            dict(action.data)
            for action in self.actions.values()
            if {"id": resource_id, "type": kind} in action.data["resources"]
            and (not statuses or action.data["status"] in statuses)
        ]
        return self.page("actions", found, query)

    # listing

    def page(self, root: str, items: list[Json], query: dict[str, list[str]]) -> Json:
        def number(name: str, default: int) -> int:
            raw = (query.get(name) or [str(default)])[0]
            if not raw.isdigit() or int(raw) < 1:
                raise invalid(name, "must be a positive integer")
            return int(raw)

        page, per_page = number("page", 1), min(number("per_page", 25), self.max_per_page)
        last = max(1, math.ceil(len(items) / per_page))
        return {
            root: items[(page - 1) * per_page : page * per_page],
            "meta": {
                "pagination": {
                    "page": page,
                    "per_page": per_page,
                    "previous_page": page - 1 if page > 1 else None,
                    "next_page": page + 1 if page < last else None,
                    "last_page": last,
                    "total_entries": len(items),
                }
            },
        }

    def listing(self, root: str, store: dict[int, Json], query: dict[str, list[str]]) -> Json:
        items = list(store.values())
        if "name" in query:
            items = [item for item in items if item["name"] == query["name"][0]]
        if "label_selector" in query:
            matches = label_selector(query["label_selector"][0])
            items = [item for item in items if matches(item["labels"])]
        if "status" in query:
            items = [item for item in items if item.get("status") in query["status"]]
        return self.page(root, sorted(items, key=lambda item: item["id"]), query)

    # lookups

    @staticmethod
    def find(store: dict[int, Json], resource_id: object, kind: str) -> Json:
        if not isinstance(resource_id, int) or resource_id not in store:
            raise ApiError("not_found", f"{kind} with ID '{resource_id}' not found")
        return store[resource_id]

    @staticmethod
    def check_unique(store: dict[int, Json], name: str, kind: str, own_id: int = 0) -> None:
        if any(item["name"] == name and item["id"] != own_id for item in store.values()):
            raise ApiError("uniqueness_error", f"{kind} name is already used")

    @staticmethod
    def lookup(catalog: dict[str, Json], value: object, field_name: str) -> Json:
        for entry in catalog.values():
            if value in (entry["name"], entry["id"]):
                return entry
        raise invalid(field_name, f"{field_name} {value!r} does not exist")

    @staticmethod
    def addresses(server_id: int) -> Json:
        return {
            "ipv4": {
                "id": 100_000 + server_id,
                # public, as Hetzner's are: Cloudflare refuses to proxy private addresses
                "ip": str(ipaddress.ip_address("49.12.0.0") + server_id),
                "blocked": False,
                "dns_ptr": f"static.{server_id}.clients.your-server.de",
            },
            "ipv6": {
                "id": 200_000 + server_id,
                "ip": f"2001:db8:{server_id:x}::/64",
                "blocked": False,
                "dns_ptr": [],
            },
            "floating_ips": [],
            "firewalls": [],
        }

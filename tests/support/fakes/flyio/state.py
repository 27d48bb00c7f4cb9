"""What the fake Fly.io Machines API knows: apps with their secrets and addresses (volumes and
machines follow their own rules in ``compute.py``), the faults a test asked for, and a log of
the requests it answered.

App names are global, as on Fly.io: one held by another organization answers 403 to a read and
``name_taken`` (422) to a create. Every operation runs under ``lock``: the server thread and the
test thread both use the state.
"""

from __future__ import annotations

import fnmatch
import hashlib
import itertools
import re
import secrets
import threading
from collections.abc import Callable
from typing import Any

from tests.support.fakes.flyio.records import (
    FakeApp,
    Fault,
    FlyError,
    LoggedRequest,
    now_iso,
)

_APP_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


class FakeFly:
    def __init__(self, *, token: str, org_slug: str, start_delay: float = 0.3) -> None:
        self.token = token
        self.org_slug = org_slug
        self.start_delay = start_delay  # seconds from launch to started
        self.url = ""
        self.lock = threading.RLock()
        self.apps: dict[str, FakeApp] = {}
        self.foreign_app_names: dict[str, str] = {}
        self.faults: list[Fault] = []
        self.requests: list[LoggedRequest] = []
        self.serial = itertools.count(1)
        # the CNAME targets DNS holds for a name; None: every validation record is in place
        self.acme_dns: Callable[[str], list[str]] | None = None

    # what tests arrange and inspect

    def fail_next(
        self,
        method: str,
        path: str,
        status: int,
        *,
        times: int = 1,
        retry_after: str | None = None,
        after_applying: bool = False,
    ) -> None:
        """The next ``times`` requests of ``method`` to a path matching ``path`` (fnmatch) get
        ``status``; ``after_applying`` answers so only after the work was done."""
        with self.lock:
            self.faults.append(Fault(method, path, status, times, retry_after, after_applying))

    def hold_app_name(self, name: str, org_slug: str) -> None:
        """An app of another organization: invisible here, but its name is taken."""
        with self.lock:
            self.foreign_app_names[name] = org_slug

    def stop_machine(self, app: str, machine_id: str) -> None:
        with self.lock:
            self.app(app).machines[machine_id].stopped = True

    def requests_to(self, method: str, path: str) -> list[LoggedRequest]:
        with self.lock:
            return [
                r for r in self.requests if r.method == method and fnmatch.fnmatch(r.path, path)
            ]

    # what the HTTP layer uses

    def authorized(self, header: str | None) -> bool:
        expected = self.token if self.token.startswith("FlyV1 ") else f"Bearer {self.token}"
        return header == expected

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.remaining and fault.method == method and fnmatch.fnmatch(path, fault.path):
                    fault.remaining -= 1
                    return fault
            return None

    def record(self, request: LoggedRequest) -> None:
        with self.lock:
            self.requests.append(request)

    def app(self, name: str) -> FakeApp:
        if name in self.foreign_app_names:
            raise FlyError(403, "unauthorized: not allowed to access this app")
        if name not in self.apps:
            raise FlyError(404, "app not found")
        return self.apps[name]

    # apps, secrets, addresses

    def create_app(self, body: dict[str, Any]) -> dict[str, Any]:
        name, org_slug = body.get("name"), body.get("org_slug")
        if not isinstance(name, str) or not _APP_NAME.fullmatch(name):
            raise FlyError(
                422, "Validation failed: Name may only hold lowercase letters, digits and dashes"
            )
        if org_slug != self.org_slug:
            raise FlyError(404, f"organization {org_slug!r} not found")
        if name in self.apps or name in self.foreign_app_names:
            raise FlyError(422, "Validation failed: Name has already been taken", "name_taken")
        app = FakeApp(id=secrets.token_hex(8), name=name, org_slug=org_slug)
        self.apps[name] = app
        return {"id": app.id, "created_at": 1_708_631_799_000}

    def show_app(self, name: str) -> dict[str, Any]:
        app = self.app(name)
        return {
            "id": app.id,
            "name": app.name,
            "status": "deployed" if app.live_machines() else "pending",
            "organization": {"name": app.org_slug.title(), "slug": app.org_slug},
            "network": app.network,
            "machine_count": len(app.live_machines()),
            "volume_count": len(app.volumes),
        }

    def delete_app(self, name: str) -> None:
        self.app(name)
        del self.apps[name]

    def update_secrets(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        app = self.app(name)
        values = body.get("values")
        if not isinstance(values, dict) or not values:
            raise FlyError(400, "values is required")
        for key, value in values.items():
            if value is not None and not isinstance(value, str):
                raise FlyError(400, f"the value of secret {key} is not a string")
        for key, value in values.items():
            if value is None:
                app.secrets.pop(key, None)
            else:
                app.secrets[key] = value
        app.secrets_version += 1
        listed = [
            {
                "name": key,
                "digest": hashlib.sha256(value.encode()).hexdigest()[:16],
                "created_at": now_iso(),
                "updated_at": now_iso(),
            }
            for key, value in sorted(app.secrets.items())
        ]
        return {"secrets": listed, "version": app.secrets_version}

    def list_ips(self, name: str) -> dict[str, Any]:
        return {"ips": list(self.app(name).ips)}

    def assign_ip(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        app = self.app(name)
        kind = body.get("type")
        if kind == "shared_v4":
            address, shared = "66.241.124.11", True
        elif kind == "v6":
            address, shared = f"2a09:8280:1::{next(self.serial):x}", False
        elif kind == "private_v6":
            address, shared = f"fdaa:0:1:a7b:{next(self.serial):x}::2", False
        else:
            raise FlyError(400, f"unsupported IP address type {kind!r}")
        ip = {
            "ip": address,
            "shared": shared,
            "region": "global",
            "service_name": "",
            "created_at": now_iso(),
        }
        app.ips.append(ip)
        return ip

    def release_ip(self, name: str, address: str) -> None:
        app = self.app(name)
        kept = [ip for ip in app.ips if ip["ip"] != address]
        if len(kept) == len(app.ips):
            raise FlyError(404, f"IP address {address} not found")
        app.ips = kept

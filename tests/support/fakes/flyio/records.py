"""The records of the fake Fly.io Machines API (apps, volumes, machines, faults, requests)
and their JSON as the API shows it."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

REGIONS = frozenset(
    "ams arn bom cdg den dfw ewr fra gdl gru hkg iad jnb lax lhr mad mia nrt ord otp qro scl "  # noqa: SIM905
    "sea sin sjc syd waw yul yyz".split()
)
_ULID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class FlyError(Exception):
    """An answer in Fly.io's error shape: ``{"error": message, "status": fly_status}``."""

    def __init__(self, status: int, message: str, fly_status: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.fly_status = fly_status

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.message}
        if self.fly_status is not None:
            body["status"] = self.fly_status
        return body


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_version() -> str:
    return "".join(secrets.choice(_ULID_ALPHABET) for _ in range(26))


@dataclass
class FakeVolume:
    id: str
    name: str
    region: str
    size_gb: int
    encrypted: bool
    created_at: str
    state: str = "created"
    attached_machine_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "size_gb": self.size_gb,
            "region": self.region,
            "zone": "a1b2",
            "encrypted": self.encrypted,
            "attached_machine_id": self.attached_machine_id,
            "attached_alloc_id": None,
            "created_at": self.created_at,
            "fstype": "ext4",
            "snapshot_retention": 5,
            "auto_backup_enabled": True,
            "host_dedication_key": "",
        }


@dataclass
class FakeMachine:
    id: str
    name: str
    region: str
    config: dict[str, Any]
    private_ip: str
    created_at: str
    instance_id: str = field(default_factory=new_version)
    launched_at: float = field(default_factory=time.monotonic)
    first_phase: str = "created"
    stopped: bool = False
    destroyed: bool = False
    updates: int = 0

    def state(self, start_delay: float) -> str:
        if self.destroyed:
            return "destroyed"
        if self.stopped:
            return "stopped"
        elapsed = time.monotonic() - self.launched_at
        if elapsed < start_delay / 2:
            return self.first_phase
        return "starting" if elapsed < start_delay else "started"

    def launch(self, first_phase: str) -> None:
        self.instance_id = new_version()
        self.launched_at = time.monotonic()
        self.first_phase = first_phase
        self.stopped = False

    def to_json(self, start_delay: float) -> dict[str, Any]:
        image = str(self.config.get("image", ""))
        return {
            "id": self.id,
            "name": self.name,
            "state": self.state(start_delay),
            "region": self.region,
            "instance_id": self.instance_id,
            "private_ip": self.private_ip,
            "config": self.config,
            "image_ref": {
                "registry": "registry.fly.io",
                "repository": image.split(":")[0],
                "tag": image.partition(":")[2] or "latest",
                "digest": "sha256:00",
            },
            "created_at": self.created_at,
            "updated_at": now_iso(),
            "events": [],
        }


@dataclass
class FakeApp:
    id: str
    name: str
    org_slug: str
    network: str = "default"
    volumes: dict[str, FakeVolume] = field(default_factory=dict)
    machines: dict[str, FakeMachine] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    secrets_version: int = 0
    ips: list[dict[str, Any]] = field(default_factory=list)
    certificates: dict[str, dict[str, Any]] = field(default_factory=dict)

    def live_machines(self) -> list[FakeMachine]:
        return [m for m in self.machines.values() if not m.destroyed]


@dataclass
class Fault:
    method: str
    path: str  # an fnmatch pattern over the request path
    status: int
    remaining: int
    retry_after: str | None = None
    after_applying: bool = False  # answer with the fault only after doing the work

    def body(self) -> dict[str, Any]:
        if self.status == 429:
            return {"error": "rate limit exceeded"}
        return {"error": f"internal error (injected {self.status})"}


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: dict[str, str]
    status: int
    at: float  # time.monotonic() when it arrived
    body: Any

"""What a data-plane machine runs, as the Machines API's ``fly.MachineConfig``, and whether a
machine's current config is still that."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from webhost.control.providers.flyio.names import check_resource_id, check_variable_name
from webhost.errors import ProvisioningError

CPU_KINDS = frozenset({"shared", "performance"})
CPU_COUNTS = frozenset({1, 2, 4, 8, 16})
# maps Fly.io returns exactly as sent; everywhere else it may add fields of its own
_EXACT_MAPS = frozenset({"env", "metadata"})


@dataclass(frozen=True)
class MachineConfig:
    """The plane's image with its volume mounted, public on 443 (TLS) and 80 (redirected to
    HTTPS) through Fly's proxy to ``internal_port``, and taken out of routing while ``health_path``
    fails. Secrets are not here: machines get the app's secrets from Fly.io."""

    image: str
    volume_id: str
    mount_path: str = "/data"
    env: Mapping[str, str] = field(default_factory=dict)
    metadata: Mapping[str, str] = field(default_factory=dict)
    internal_port: int = 8080
    health_path: str = "/health"
    cpu_kind: str = "shared"
    cpus: int = 1
    memory_mb: int = 1024
    # False: no services, so Fly's proxy never routes a request to the machine
    public: bool = True

    def __post_init__(self) -> None:
        if not self.image or any(character.isspace() for character in self.image):
            raise ProvisioningError(f"{self.image!r} is not a container image reference")
        check_resource_id(self.volume_id, what="volume")
        for path, what in ((self.mount_path, "mount path"), (self.health_path, "health path")):
            if not path.startswith("/") or any(character.isspace() for character in path):
                raise ProvisioningError(f"the {what} {path!r} must be an absolute path")
        for name, value in self.env.items():
            check_variable_name(name, what="environment variable")
            if not isinstance(value, str):
                raise ProvisioningError(f"the environment variable {name} must be a string")
        if not all(isinstance(v, str) for v in (*self.metadata, *self.metadata.values())):
            raise ProvisioningError("machine metadata keys and values must be strings")
        if not 1 <= self.internal_port <= 65_535:
            raise ProvisioningError(f"{self.internal_port} is not a TCP port")
        if self.cpu_kind not in CPU_KINDS or self.cpus not in CPU_COUNTS:
            raise ProvisioningError(
                f"{self.cpu_kind!r} x {self.cpus!r} is not a Fly machine size: the kind is "
                "shared or performance, with 1, 2, 4, 8 or 16 CPUs"
            )
        if self.memory_mb < 256 or self.memory_mb % 256:
            raise ProvisioningError(f"{self.memory_mb} MB is not a multiple of 256 MB")

    def to_fly(self) -> dict[str, Any]:
        return {
            **self._fly_runtime(),
            "services": self._fly_services() if self.public else [],
        }

    def _fly_runtime(self) -> dict[str, Any]:
        return {
            "image": self.image,
            "env": dict(self.env),
            "metadata": dict(self.metadata),
            "guest": {"cpu_kind": self.cpu_kind, "cpus": self.cpus, "memory_mb": self.memory_mb},
            "mounts": [{"volume": self.volume_id, "path": self.mount_path}],
            "restart": {"policy": "always"},
        }

    def _fly_services(self) -> list[dict[str, Any]]:
        return [
            {
                "protocol": "tcp",
                "internal_port": self.internal_port,
                # the API answers autostop with the boolean form, so it is sent as one
                "autostop": False,
                "autostart": True,
                "ports": [
                    {"port": 443, "handlers": ["tls", "http"]},
                    {"port": 80, "handlers": ["http"], "force_https": True},
                ],
                "checks": [
                    {
                        "type": "http",
                        "method": "GET",
                        "path": self.health_path,
                        "interval": "15s",
                        "timeout": "5s",
                        "grace_period": "30s",
                    }
                ],
            }
        ]


def config_drifted(desired: Any, current: Any, key: str | None = None) -> bool:
    """True when ``current`` (as Fly.io reports it) differs from ``desired`` in anything we set;
    fields Fly.io filled in itself do not count, except in env and metadata, which are ours."""
    if current is None:
        # the API leaves out empty and false fields (Go's omitempty)
        return desired not in (None, False, 0, "", [], {})
    if isinstance(desired, dict):
        if key in _EXACT_MAPS:
            return bool(desired != current)
        if not isinstance(current, dict):
            return True
        return any(
            config_drifted(value, current.get(name), name) for name, value in desired.items()
        )
    if isinstance(desired, list):
        if not isinstance(current, list) or len(desired) != len(current):
            return True
        return any(config_drifted(d, c, key) for d, c in zip(desired, current, strict=True))
    return bool(desired != current)

"""What a deployment is made of on Fly.io: its app's name, volumes, machines and their sizes,
derived from the deployment and the settings alone, so every step (and its undo) finds them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from webhost.config import Settings
from webhost.control.providers.base import DeploymentSpec
from webhost.control.providers.flyio.names import check_app_name, check_region
from webhost.errors import ProvisioningError

VOLUME_NAME = "webhost_data"
MOUNT_PATH = "/data"
INTERNAL_PORT = 8080
# the name of the app secret, not a secret
MANAGEMENT_TOKEN = "WEBHOST_DATAPLANE_MANAGEMENT_TOKEN"  # noqa: S105
MAX_REGIONS = 3


@dataclass(frozen=True)
class MachineSize:
    cpu_kind: str
    cpus: int
    memory_mb: int


@dataclass(frozen=True)
class FlyLayout:
    """One deployment's Fly resources: ``regions[0]`` holds the primary, the others standbys."""

    app: str
    regions: tuple[str, ...]
    size: MachineSize
    volume_gb: int

    @property
    def primary_region(self) -> str:
        return self.regions[0]

    def machine_name(self, region: str) -> str:
        role = "primary" if region == self.primary_region else "standby"
        return f"plane-{role}-{region}"

    @property
    def machine_names(self) -> set[str]:
        return {self.machine_name(region) for region in self.regions}


def app_name_of(settings: Settings, deployment: DeploymentSpec) -> str:
    return check_app_name(f"{settings.fly_app_prefix}-{deployment.tenant_name.removeprefix('t_')}")


def layout_of(settings: Settings, deployment: DeploymentSpec) -> FlyLayout:
    app = app_name_of(settings, deployment)
    regions = deployment.regions or ((deployment.region,) if deployment.region else ())
    if not 1 <= len(regions) <= MAX_REGIONS:
        raise ProvisioningError(
            f"a Fly.io deployment runs in 1 to {MAX_REGIONS} regions; the plan "
            f"{deployment.plan_slug!r} names {len(regions)}"
        )
    if len(set(regions)) != len(regions):
        raise ProvisioningError(f"the plan {deployment.plan_slug!r} names a region twice")
    for region in regions:
        check_region(region)
    return FlyLayout(
        app=app,
        regions=tuple(regions),
        size=_size_of(settings, deployment.resources),
        volume_gb=_whole(deployment.resources, "storage_gb", settings.fly_volume_gb),
    )


def _size_of(settings: Settings, resources: Any) -> MachineSize:
    """The plan's ``cpu_kind``, ``cpus`` and ``memory_mb`` where it has them, else settings'."""
    kind, _, count = settings.fly_machine_size.partition("-cpu-")
    cpu_kind = resources.get("cpu_kind", kind)
    if not isinstance(cpu_kind, str):
        raise ProvisioningError(f"the plan's cpu_kind {cpu_kind!r} is not a Fly CPU kind")
    return MachineSize(
        cpu_kind=cpu_kind,
        cpus=_whole(resources, "cpus", int(count.removesuffix("x"))),
        memory_mb=_whole(resources, "memory_mb", settings.fly_machine_memory_mb),
    )


def _whole(resources: Any, key: str, default: int) -> int:
    value = resources.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProvisioningError(f"the plan's {key} {value!r} is not a whole number")
    return value

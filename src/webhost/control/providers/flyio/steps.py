"""The flyio provider's steps on Fly.io itself: the app, its secrets, volumes, addresses and
machines. Each finds what an earlier attempt made before creating anything, and each undo
deletes only what its step stands for; an app that is already gone holds nothing to delete."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, TypeVar

from webhost.control.providers.base import ProvisioningStep, StepRun
from webhost.control.providers.flyio.layout import (
    INTERNAL_PORT,
    MANAGEMENT_TOKEN,
    MOUNT_PATH,
    VOLUME_NAME,
    FlyLayout,
    app_name_of,
    layout_of,
)
from webhost.control.providers.flyio.machine_config import MachineConfig
from webhost.control.providers.flyio.transport import FlyRefusal
from webhost.security.tokens import random_string

if TYPE_CHECKING:
    from webhost.control.providers.flyio.provider import FlyProvider

T = TypeVar("T")

MACHINE_START_SECONDS = 300.0
# the name it is sealed under among the deployment's credentials
MANAGEMENT_TOKEN_SECRET = "plane_management_token"  # noqa: S105


async def unless_app_gone(call: Awaitable[T]) -> T | None:
    """The call's result, or None when Fly.io answers that the app does not exist (any more)."""
    try:
        return await call
    except FlyRefusal as refusal:
        if refusal.response_status == 404:
            return None
        raise


async def management_token(run: StepRun) -> str:
    """The token the control plane manages the deployment's plane with, made once and sealed."""
    return await run.get_secret(MANAGEMENT_TOKEN_SECRET, lambda: random_string(48))


class FlyStep(ProvisioningStep):
    def __init__(self, provider: FlyProvider) -> None:
        self.provider = provider

    def layout(self, run: StepRun) -> FlyLayout:
        return layout_of(self.provider.context.settings, run.deployment)

    def app(self, run: StepRun) -> str:
        """The app's name alone: undoing a plan Fly could not host must not need its regions."""
        return app_name_of(self.provider.context.settings, run.deployment)


class FlyApp(FlyStep):
    """One Fly app per deployment; deleting it (last) takes whatever is left in it along."""

    name = "fly_app"

    async def apply(self, run: StepRun) -> dict[str, Any]:
        # refused here, not in provision_steps, so the deployment fails with the reason
        self.provider.check_mode(run.deployment)
        app = await self.provider.fly.ensure_app(self.app(run))
        return {"app": app.name}

    async def undo(self, run: StepRun) -> None:
        await self.provider.fly.delete_app(self.app(run))


class FlySecrets(FlyStep):
    """What the plane needs and nobody may read: app secrets, which machines get as variables."""

    name = "fly_secrets"

    async def apply(self, run: StepRun) -> dict[str, Any]:
        secrets = {MANAGEMENT_TOKEN: await management_token(run)}
        version = await self.provider.fly.set_secrets(self.app(run), secrets)
        return {"names": sorted(secrets), "version": version}

    async def undo(self, run: StepRun) -> None:
        await self.provider.fly.unset_secrets(self.app(run), [MANAGEMENT_TOKEN])


class FlyVolumes(FlyStep):
    """A volume in every region of the plan, for the PostgreSQL of the machine there."""

    name = "fly_volumes"

    async def apply(self, run: StepRun) -> dict[str, Any]:
        layout = self.layout(run)
        volumes = {}
        for region in layout.regions:
            volume = await self.provider.fly.ensure_volume(
                layout.app, VOLUME_NAME, region, layout.volume_gb
            )
            volumes[region] = volume.id
        return {"volumes": volumes, "size_gb": layout.volume_gb}

    async def undo(self, run: StepRun) -> None:
        layout = self.layout(run)
        for region in reversed(layout.regions):
            volume = await unless_app_gone(
                self.provider.fly.find_volume(layout.app, VOLUME_NAME, region)
            )
            if volume is not None:
                await self.provider.fly.delete_volume(layout.app, volume.id)


class FlyAddresses(FlyStep):
    """A shared IPv4 and an IPv6 address, so ``<app>.fly.dev`` answers on both."""

    name = "fly_ips"

    async def apply(self, run: StepRun) -> dict[str, Any]:
        assigned = await self.provider.fly.ensure_ips(self.app(run))
        return {"ips": sorted(ip.ip for ip in assigned)}

    async def undo(self, run: StepRun) -> None:
        await self.provider.fly.release_ips(self.app(run))


class FlyMachines(FlyStep):
    """A machine per region on that region's volume: the first serves, the others stand by."""

    name = "fly_machines"

    async def apply(self, run: StepRun) -> dict[str, Any]:
        layout = self.layout(run)
        volumes = run.outputs[FlyVolumes.name]["volumes"]
        secrets_version = run.outputs[FlySecrets.name]["version"]
        machines = {}
        for region in layout.regions:
            machine = await self.provider.fly.ensure_machine(
                layout.app,
                layout.machine_name(region),
                region,
                self.config(run, layout, region, volumes[region]),
                min_secrets_version=secrets_version or None,
            )
            machines[region] = machine.id
        for machine_id in machines.values():
            await self.provider.fly.wait_started(layout.app, machine_id, MACHINE_START_SECONDS)
        return {"machines": machines, "primary": machines[layout.primary_region]}

    def config(self, run: StepRun, layout: FlyLayout, region: str, volume_id: str) -> MachineConfig:
        primary = region == layout.primary_region
        return MachineConfig(
            image=self.provider.context.settings.fly_image,
            volume_id=volume_id,
            mount_path=MOUNT_PATH,
            env={
                "WEBHOST_DATAPLANE_TENANT_ID": str(run.deployment.id),
                "WEBHOST_DATA_DIR": MOUNT_PATH,
            },
            metadata={
                "webhost_deployment": str(run.deployment.id),
                "webhost_role": "primary" if primary else "standby",
            },
            internal_port=INTERNAL_PORT,
            cpu_kind=layout.size.cpu_kind,
            cpus=layout.size.cpus,
            memory_mb=layout.size.memory_mb,
            # a standby holds no copy of the data: Fly's proxy must never send it a request
            public=primary,
        )

    async def undo(self, run: StepRun) -> None:
        layout = self.layout(run)
        machines = await unless_app_gone(self.provider.fly.list_machines(layout.app))
        for machine in machines or []:
            if machine.name in layout.machine_names:
                await self.provider.fly.delete_machine(layout.app, machine.id)

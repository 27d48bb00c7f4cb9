"""The ``flyio`` provider: every dedicated deployment is a Fly.io app of its own.

Its data plane runs embedded (PostgreSQL on the machine's volume, one tenant) on a machine in
the plan's first region; the plan's further regions get a standby machine with a volume of its
own, out of Fly's proxy. The control plane manages the plane through its management API at
``WEBHOST_FLY_PLANE_URL`` with a token sealed in the control database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from webhost.control.plans.models import DeploymentMode
from webhost.control.providers.base import (
    DeploymentSpec,
    Endpoints,
    ProvisioningStep,
    StepRun,
)
from webhost.control.providers.cloudflare.hostnames import StableHostnames
from webhost.control.providers.flyio import plane_steps, steps
from webhost.control.providers.flyio.certificate_steps import FlyCertificates
from webhost.control.providers.flyio.layout import MANAGEMENT_TOKEN, VOLUME_NAME, layout_of
from webhost.control.providers.flyio.machines import FlyMachinesApi
from webhost.control.providers.remote_tenants import RemoteTenantProvider
from webhost.errors import ConfigurationError, ProvisioningError

if TYPE_CHECKING:
    from webhost.control.providers.context import ProviderContext
    from webhost.control.providers.remote_plane import RemotePlane


class FlyProvider(RemoteTenantProvider):
    name = "flyio"

    def __init__(self, context: ProviderContext) -> None:
        super().__init__(context)
        settings = context.settings
        if settings.fly_api_token is None:
            raise ConfigurationError("the flyio provider needs WEBHOST_FLY_API_TOKEN")
        missing = [
            name
            for name, value in (
                ("WEBHOST_CLOUDFLARE_API_TOKEN", settings.cloudflare_api_token),
                ("WEBHOST_CLOUDFLARE_ZONE_ID", settings.cloudflare_zone_id),
                ("WEBHOST_BASE_DOMAIN", settings.base_domain),
            )
            if not value
        ]
        if missing:
            raise ConfigurationError(
                "the flyio provider gives deployments stable hostnames on Cloudflare: set "
                + ", ".join(missing)
            )
        self.fly = FlyMachinesApi(
            settings.fly_api_token.get_secret_value(),
            settings.fly_org,
            api_base=settings.fly_api_base,
        )
        # proxied CNAMEs to <app>.fly.dev: the names stay when the app behind them changes
        self.hostnames = StableHostnames(settings, self.fly_hostname)

    def check_mode(self, deployment: DeploymentSpec) -> None:
        if deployment.mode != DeploymentMode.DEDICATED:
            raise ProvisioningError(
                f"the flyio provider hosts dedicated plans only; {deployment.plan_slug!r} is "
                f"{deployment.mode.value}: give it the local or another shared provider"
            )

    def provision_steps(self, deployment: DeploymentSpec) -> Sequence[ProvisioningStep]:
        return [
            steps.FlyApp(self),
            steps.FlySecrets(self),
            steps.FlyVolumes(self),
            steps.FlyAddresses(self),
            FlyCertificates(self),
            steps.FlyMachines(self),
            plane_steps.PlaneHealthy(self),
            plane_steps.PlaneTenant(self),
            self.hostnames,
        ]

    def fly_hostname(self, run: StepRun) -> str:
        return f"{layout_of(self.context.settings, run.deployment).app}.fly.dev"

    def plane_url(self, deployment: DeploymentSpec) -> str:
        app = layout_of(self.context.settings, deployment).app
        return self.context.settings.fly_plane_url.replace("{app}", app).rstrip("/")

    def endpoints(
        self, deployment: DeploymentSpec, outputs: dict[str, dict[str, Any]]
    ) -> Endpoints:
        return self.hostnames.endpoints(deployment, self.plane_url(deployment))

    async def management_token(self, deployment: DeploymentSpec) -> str:
        """The plane's management token, as provisioning sealed it in the control database."""
        # deployments' service imports the provider interface: imported here, not at the top
        from webhost.control.deployments import repository as deployments_repository

        async with self.context.sessions() as session:
            row = await deployments_repository.get(session, deployment.id)
        sealed = row.sealed_credentials if row is not None else None
        values = (
            self.context.secret_box.open_json(sealed, context=f"deployment:{deployment.id}")
            if sealed
            else {}
        )
        token = values.get(steps.MANAGEMENT_TOKEN_SECRET)
        if not isinstance(token, str):
            raise ProvisioningError(
                f"deployment {deployment.id} has no management token: it was never provisioned"
            )
        return token

    def plane_at(self, deployment: DeploymentSpec, token: str) -> RemotePlane:
        from webhost.control.providers.remote_plane import RemotePlane

        return RemotePlane(self.plane_url(deployment), token)

    @asynccontextmanager
    async def tenant_plane(self, deployment: DeploymentSpec) -> AsyncIterator[RemotePlane]:
        plane = self.plane_at(deployment, await self.management_token(deployment))
        try:
            yield plane
        finally:
            await plane.aclose()

    primary_region_holds_data = True

    async def reshape(self, deployment: DeploymentSpec) -> None:
        """A volume and a standby machine in each region the plan adds, the plan's size for
        every machine (Fly restarts one it resizes), and the machines and volumes of regions
        it dropped removed; the primary and its volume are never replaced."""
        layout = layout_of(self.context.settings, deployment)
        token = await self.management_token(deployment)
        version = await self.fly.set_secrets(layout.app, {MANAGEMENT_TOKEN: token})
        run = StepRun(deployment)
        run.outputs[steps.FlyVolumes.name] = await steps.FlyVolumes(self).apply(run)
        run.outputs[steps.FlySecrets.name] = {"version": version}
        await steps.FlyMachines(self).apply(run)
        for machine in await self.fly.list_machines(layout.app):
            if machine.name not in layout.machine_names:
                await self.fly.delete_machine(layout.app, machine.id)
        for volume in await self.fly.list_volumes(layout.app):
            if volume.name == VOLUME_NAME and volume.region not in layout.regions:
                await self.fly.delete_volume(layout.app, volume.id)

    async def close(self) -> None:
        await self.fly.aclose()

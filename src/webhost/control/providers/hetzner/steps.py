"""The hetzner provider's steps: a place on a shared host, the tenant on its data plane."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from webhost.control.providers.base import ProvisioningStep, StepRun
from webhost.control.providers.hetzner.hosts import plane_url_of
from webhost.control.providers.hetzner.models import HostStatus
from webhost.control.providers.hetzner.placement import HostView
from webhost.errors import ProvisioningError

if TYPE_CHECKING:
    from webhost.control.providers.hetzner.provider import HetznerProvider


class SharedHostPlace(ProvisioningStep):
    """A place on a ready host with room; when none has, a new host, made and answering."""

    name = "shared_host"

    def __init__(self, provider: HetznerProvider) -> None:
        self.provider = provider

    async def apply(self, run: StepRun) -> dict[str, Any]:
        placements = self.provider.placements
        host = await placements.claim(run.deployment.id)
        if host.status == HostStatus.CREATING:
            async with placements.building(host.id):
                current = await placements.get(host.id)
                if current is None:
                    raise ProvisioningError(f"shared host {host.id} was removed meanwhile")
                host = current
                if host.status == HostStatus.CREATING:
                    built = await self.provider.resources().build(host.id, host.management_token)
                    async with self.provider.plane(host.id, host.management_token) as plane:
                        await plane.wait_healthy(
                            self.provider.context.settings.hetzner_plane_boot_seconds
                        )
                    await placements.mark_ready(host.id, built.server_id, built.address)
                    host = await placements.get(host.id) or host
        if host.address is None:
            raise ProvisioningError(f"shared host {host.id} has no address yet")
        return {
            "host_id": host.id,
            "address": host.address,
            "plane_url": plane_url_of(self.provider.context.settings, host.id),
        }

    async def undo(self, run: StepRun) -> None:
        placements = self.provider.placements
        host = await placements.release(run.deployment.id)
        if host is None:
            return  # not placed, or the host keeps serving others (or waits for the sweep)
        await self.provider.remove_host(host)


class TenantOnHost(ProvisioningStep):
    """The tenant's role, schema, migrations and directory entry on its host's data plane."""

    name = "tenant_on_host"

    def __init__(self, provider: HetznerProvider) -> None:
        self.provider = provider

    async def apply(self, run: StepRun) -> dict[str, Any]:
        host = await self._host(run)
        if host is None:
            raise ProvisioningError(f"deployment {run.deployment.id} has no shared host")
        async with self.provider.plane(host.id, host.management_token) as plane:
            await plane.ensure_tenant(run.deployment.tenant, run.deployment.limits)
        return {"host_id": host.id}

    async def undo(self, run: StepRun) -> None:
        host = await self._host(run)
        if host is None:
            return  # never placed: nothing reached a plane
        async with self.provider.plane(host.id, host.management_token) as plane:
            await plane.remove_tenant(run.deployment.id)

    async def _host(self, run: StepRun) -> HostView | None:
        return await self.provider.placements.host_of(run.deployment.id)

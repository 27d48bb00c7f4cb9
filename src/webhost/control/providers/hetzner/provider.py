"""The ``hetzner`` provider: shared plans on Hetzner Cloud servers, each running one data plane
for many tenants, with stable hostnames on Cloudflare.

A deployment gets a place on a shared host (a new host is made when none has room), its tenant
on that host's data plane through the plane's management API, and proxied DNS records of its
own that point at the host. Dedicated plans are not hosted here.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import structlog

from webhost.control.plans.models import DeploymentMode
from webhost.control.providers.base import (
    DeploymentSpec,
    Endpoints,
    ProvisioningStep,
    StepRun,
)
from webhost.control.providers.cloudflare.hostnames import StableHostnames
from webhost.control.providers.hetzner import repository
from webhost.control.providers.hetzner.cloud import HetznerCloud
from webhost.control.providers.hetzner.hosts import HostResources, cloud_of, plane_url_of
from webhost.control.providers.hetzner.placement import HostView, Placements
from webhost.control.providers.hetzner.steps import SharedHostPlace, TenantOnHost
from webhost.control.providers.remote_plane import RemotePlane
from webhost.control.providers.remote_tenants import RemoteTenantProvider
from webhost.errors import ProvisioningError

if TYPE_CHECKING:
    from webhost.control.providers.context import ProviderContext

log = structlog.get_logger(__name__)

RECLAIM_INTERVAL_SECONDS = 3600.0


class HetznerProvider(RemoteTenantProvider):
    name = "hetzner"

    def __init__(self, context: ProviderContext) -> None:
        super().__init__(context)
        self.placements = Placements(context.settings, context.sessions, context.secret_box)
        self.hostnames = StableHostnames(context.settings, _host_address)
        self._cloud: HetznerCloud | None = None

    def cloud(self) -> HetznerCloud:
        if self._cloud is None:
            self._cloud = cloud_of(self.context.settings)
        return self._cloud

    def resources(self) -> HostResources:
        return HostResources(self.context.settings, self.cloud())

    @asynccontextmanager
    async def plane(self, host_id: str, token: str) -> AsyncIterator[RemotePlane]:
        """A client of the host's data plane, closed afterwards."""
        plane = RemotePlane(plane_url_of(self.context.settings, host_id), token)
        try:
            yield plane
        finally:
            await plane.aclose()

    def provision_steps(self, deployment: DeploymentSpec) -> Sequence[ProvisioningStep]:
        if deployment.mode != DeploymentMode.SHARED:
            raise ProvisioningError(
                f"the hetzner provider hosts shared plans only, and {deployment.plan_slug!r} is "
                f"{deployment.mode}: give that plan another provider (its catalog 'provider')"
            )
        return [SharedHostPlace(self), TenantOnHost(self), self.hostnames]

    def endpoints(
        self, deployment: DeploymentSpec, outputs: dict[str, dict[str, Any]]
    ) -> Endpoints:
        plane_url = str(outputs[SharedHostPlace.name]["plane_url"])
        return self.hostnames.endpoints(deployment, plane_url)

    async def _host_of(self, deployment: DeploymentSpec) -> HostView:
        host = await self.placements.host_of(deployment.id)
        if host is None:
            raise ProvisioningError(f"deployment {deployment.id} is on no shared host")
        return host

    @asynccontextmanager
    async def tenant_plane(self, deployment: DeploymentSpec) -> AsyncIterator[RemotePlane]:
        host = await self._host_of(deployment)
        async with self.plane(host.id, host.management_token) as plane:
            yield plane

    async def remove_host(self, host: HostView) -> None:
        """Delete a draining host's resources, then its row (kept when something failed, so
        the sweep tries again)."""
        async with self.placements.building(host.id):
            await self.resources().remove(host.id)
        await self.placements.forget(host.id)
        log.info("shared host removed", host=host.id)

    async def reclaim_empty_hosts(self, empty_for: timedelta | None = None) -> list[str]:
        """Remove hosts that have had no tenant for WEBHOST_HETZNER_EMPTY_HOST_HOURS."""
        hours = self.context.settings.hetzner_empty_host_hours
        wait = timedelta(hours=hours) if empty_for is None else empty_for
        async with self.context.sessions() as session:
            candidates = [host.id for host in await repository.empty_hosts(session, empty_for=wait)]
        removed = []
        for host_id in candidates:
            if not await self.placements.take_empty(host_id):
                continue  # a tenant was placed on it meanwhile
            host = await self.placements.get(host_id)
            if host is not None:
                await self.remove_host(host)
                removed.append(host_id)
        return removed

    async def run(self) -> None:
        """The reclaim sweep, hourly; one failed sweep is logged and the next one retries."""
        if self.context.settings.hetzner_api_token is None:
            return
        while True:
            try:
                await self.reclaim_empty_hosts()
            except Exception as exc:  # the sweep must outlive one bad answer from a cloud API
                log.warning("shared host reclaim failed", error=str(exc))
            await asyncio.sleep(RECLAIM_INTERVAL_SECONDS)


def _host_address(run: StepRun) -> str:
    return str(run.outputs[SharedHostPlace.name]["address"])

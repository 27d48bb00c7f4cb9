"""What a provider whose planes run elsewhere does to a deployment's tenant: every operation is
one call of the plane's management API (``remote_plane.py``), on the plane that serves the
deployment now. The hetzner and flyio providers differ only in how they find that plane."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import ClassVar

from webhost.control.keys.models import KeyScope
from webhost.control.providers.base import DeploymentSpec, Provider
from webhost.control.providers.remote_plane import RemotePlane
from webhost.data.tenancy.management import TenantHoldings
from webhost.data.tenancy.repository import ServingState
from webhost.data.tenancy.transfer import CopyReport, TableDigest


class RemoteTenantProvider(Provider):
    moves_between_modes: ClassVar[bool] = True
    stable_hostnames: ClassVar[bool] = True

    @abstractmethod
    def tenant_plane(self, deployment: DeploymentSpec) -> AbstractAsyncContextManager[RemotePlane]:
        """A client of the plane that serves the deployment, closed afterwards."""

    async def publish_key(
        self,
        deployment: DeploymentSpec,
        prefix: str,
        secret_digest: str,
        scope: KeyScope = KeyScope.FULL,
    ) -> None:
        async with self.tenant_plane(deployment) as plane:
            await plane.publish_key(deployment.id, prefix, secret_digest, scope)

    async def revoke_key(self, deployment: DeploymentSpec, prefix: str) -> None:
        async with self.tenant_plane(deployment) as plane:
            await plane.revoke_key(deployment.id, prefix)

    async def publish_limits(self, deployment: DeploymentSpec) -> None:
        async with self.tenant_plane(deployment) as plane:
            await plane.publish_limits(deployment.tenant, deployment.limits)

    async def set_serving_state(
        self, deployment: DeploymentSpec, state: ServingState, message: str | None = None
    ) -> None:
        async with self.tenant_plane(deployment) as plane:
            await plane.set_serving_state(deployment.id, state, message)

    async def holdings(self, deployment: DeploymentSpec) -> TenantHoldings:
        async with self.tenant_plane(deployment) as plane:
            return await plane.holdings(deployment.id)

    async def export_tenant(self, deployment: DeploymentSpec) -> AsyncIterator[str]:
        async with self.tenant_plane(deployment) as plane:
            async for line in plane.export_lines(deployment.id):
                yield line

    async def freeze_tenant(self, deployment: DeploymentSpec) -> None:
        async with self.tenant_plane(deployment) as plane:
            await plane.freeze(deployment.id)

    async def thaw_tenant(self, deployment: DeploymentSpec) -> None:
        async with self.tenant_plane(deployment) as plane:
            await plane.thaw(deployment.id)

    async def dump_tenant(self, deployment: DeploymentSpec) -> AsyncIterator[bytes]:
        async with self.tenant_plane(deployment) as plane:
            async for chunk in plane.dump(deployment.id):
                yield chunk

    async def restore_tenant(
        self, deployment: DeploymentSpec, chunks: AsyncIterator[bytes]
    ) -> CopyReport:
        async with self.tenant_plane(deployment) as plane:
            return await plane.restore(deployment.id, chunks)

    async def tenant_digests(self, deployment: DeploymentSpec) -> dict[str, TableDigest]:
        async with self.tenant_plane(deployment) as plane:
            return await plane.digests(deployment.id)

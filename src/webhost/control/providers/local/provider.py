"""The ``local`` provider: really provisions tenants on this machine.

Shared plans get a role and a schema in the shared database; dedicated plans get a database of
their own and a supervised data-plane process on a port of their own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from webhost.control.keys.models import KeyScope
from webhost.control.plans.models import DeploymentMode
from webhost.control.providers.base import DeploymentSpec, Endpoints, Provider, ProvisioningStep
from webhost.control.providers.local import steps
from webhost.control.providers.local.supervisor import ProcessSupervisor
from webhost.data.tenancy import management
from webhost.db.engine import create_engine
from webhost.errors import ProvisioningError

if TYPE_CHECKING:
    from webhost.platform import Platform

PORT_RELEASE_SECONDS = 30.0


class LocalProvider(Provider):
    name = "local"

    def __init__(self, platform: Platform) -> None:
        super().__init__(platform)
        self._engines: dict[str, AsyncEngine] = {}
        self.supervisor = ProcessSupervisor(self)

    def database_for(self, deployment: DeploymentSpec) -> str:
        if deployment.mode == DeploymentMode.SHARED:
            return self.platform.shared_database.database
        return f"wh_{deployment.tenant_name}"

    def provision_steps(self, deployment: DeploymentSpec) -> Sequence[ProvisioningStep]:
        database = self.database_for(deployment)
        if deployment.mode == DeploymentMode.SHARED:
            return [
                steps.SharedPlaneDatabase(self, database),
                steps.TenantRole(self, database),
                steps.TenantSchema(self, database),
                steps.TenantMigrations(self, database),
                steps.TenantDirectory(self, database, plane_role=False),
            ]
        if deployment.mode == DeploymentMode.DEDICATED:
            return [
                steps.ProcessPort(self, database),
                steps.DedicatedDatabase(self, database),
                steps.TenantRole(self, database),
                steps.PlaneRole(self, database),
                steps.TenantSchema(self, database),
                steps.Catalogue(self, database),
                steps.TenantMigrations(self, database),
                steps.TenantDirectory(self, database, plane_role=True),
                steps.DataPlaneProcess(self, database),
            ]
        raise ProvisioningError(f"the local provider cannot host {deployment.mode} plans")

    def endpoints(
        self, deployment: DeploymentSpec, outputs: dict[str, dict[str, Any]]
    ) -> Endpoints:
        if deployment.mode == DeploymentMode.SHARED:
            base = self.platform.settings.shared_plane_url
        else:
            base = f"http://{self.platform.settings.host}:{outputs[steps.ProcessPort.name]['port']}"
        return Endpoints(api_url=base, sync_url="ws" + base.removeprefix("http"))

    async def publish_key(
        self,
        deployment: DeploymentSpec,
        prefix: str,
        secret_digest: str,
        scope: KeyScope = KeyScope.FULL,
    ) -> None:
        async with self.transaction(self.database_for(deployment)) as connection:
            await management.publish_key(
                connection, deployment.id, prefix, secret_digest, scope.value
            )

    async def revoke_key(self, deployment: DeploymentSpec, prefix: str) -> None:
        async with self.transaction(self.database_for(deployment)) as connection:
            await management.revoke_key(connection, prefix)

    async def publish_limits(self, deployment: DeploymentSpec) -> None:
        async with self.transaction(self.database_for(deployment)) as connection:
            await management.register_tenant(connection, deployment.tenant, deployment.limits)

    def engine(self, database: str) -> AsyncEngine:
        """A small pool per data-plane database, as the server's administrator."""
        if database not in self._engines:
            url = self.platform.server.with_database(database)
            self._engines[database] = create_engine(url, pool_size=2)
        return self._engines[database]

    @asynccontextmanager
    async def transaction(self, database: str) -> AsyncIterator[AsyncConnection]:
        async with self.engine(database).begin() as connection:
            yield connection

    async def forget_database(self, database: str) -> None:
        engine = self._engines.pop(database, None)
        if engine is not None:
            await engine.dispose()

    async def wait_port_released(self, port: int) -> None:
        deadline = time.monotonic() + PORT_RELEASE_SECONDS
        while time.monotonic() < deadline:
            if steps.port_is_free(self.platform.settings.host, port):
                return
            await asyncio.sleep(0.2)
        raise ProvisioningError(f"the data-plane process on port {port} did not stop")

    async def run(self) -> None:
        await self.bring_directories_up_to_date()
        await self.supervisor.run()

    async def bring_directories_up_to_date(self) -> None:
        """After an upgrade of WebHost: every dedicated database's tenant directory gets the
        newest catalogue migrations and grants, and every active tenant its plan's current
        limits, before any dedicated plane starts serving."""
        # deployments' service imports the provider interface: imported here, not at the top
        from webhost.control.deployments import repository as deployments_repository
        from webhost.control.deployments import service as deployments

        async with self.platform.sessions() as session:
            specs = [
                await deployments.spec_of(session, deployment)
                for deployment in await deployments_repository.all_active(session)
            ]
        for spec in specs:
            database = self.database_for(spec)
            async with self.transaction(database) as connection:
                if spec.mode == DeploymentMode.DEDICATED:
                    await management.migrate_catalogue(connection)
                    await management.grant_plane_access(
                        connection, steps.plane_role_of(spec.tenant_name), spec.tenant
                    )
                await management.register_tenant(connection, spec.tenant, spec.limits)

    async def close(self) -> None:
        await self.supervisor.stop()
        for database in list(self._engines):
            await self.forget_database(database)

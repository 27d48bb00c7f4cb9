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
from webhost.data.tenancy import dump, freeze, management, restore, transfer
from webhost.data.tenancy.repository import ServingState
from webhost.db import admin
from webhost.db.engine import create_engine
from webhost.errors import ProvisioningError

if TYPE_CHECKING:
    from webhost.control.providers.context import ProviderContext

PORT_RELEASE_SECONDS = 30.0


class SharedHosting:
    """Shared plans: a role and a schema per tenant in the one shared database."""

    def __init__(self, provider: LocalProvider) -> None:
        self.provider = provider

    def database_for(self, deployment: DeploymentSpec) -> str:
        return self.provider.context.shared_database.database

    def steps(self, deployment: DeploymentSpec) -> list[ProvisioningStep]:
        database = self.database_for(deployment)
        return [
            steps.SharedPlaneDatabase(self.provider, database),
            steps.TenantRole(self.provider, database),
            steps.TenantSchema(self.provider, database),
            steps.TenantMigrations(self.provider, database),
            steps.TenantDirectory(self.provider, database, plane_role=False),
        ]

    def endpoints(
        self, deployment: DeploymentSpec, outputs: dict[str, dict[str, Any]]
    ) -> Endpoints:
        return _endpoints_at(self.provider.context.settings.shared_plane_url)

    async def refresh_directory(self, connection: AsyncConnection, spec: DeploymentSpec) -> None:
        """The tenant's current limits (the shared catalogue is migrated before it serves)."""
        await management.register_tenant(connection, spec.tenant, spec.limits)


class DedicatedHosting:
    """Dedicated plans: a database of their own and a supervised data-plane process."""

    def __init__(self, provider: LocalProvider) -> None:
        self.provider = provider

    def database_for(self, deployment: DeploymentSpec) -> str:
        return f"wh_{deployment.tenant_name}"

    def steps(self, deployment: DeploymentSpec) -> list[ProvisioningStep]:
        database = self.database_for(deployment)
        return [
            steps.ProcessPort(self.provider, database),
            steps.DedicatedDatabase(self.provider, database),
            steps.TenantRole(self.provider, database),
            steps.PlaneRole(self.provider, database),
            steps.TenantSchema(self.provider, database),
            steps.Catalogue(self.provider, database),
            steps.TenantMigrations(self.provider, database),
            steps.TenantDirectory(self.provider, database, plane_role=True),
            steps.DataPlaneProcess(self.provider, database),
        ]

    def endpoints(
        self, deployment: DeploymentSpec, outputs: dict[str, dict[str, Any]]
    ) -> Endpoints:
        port = outputs[steps.ProcessPort.name]["port"]
        return _endpoints_at(f"http://{self.provider.context.settings.host}:{port}")

    async def refresh_directory(self, connection: AsyncConnection, spec: DeploymentSpec) -> None:
        """The database's newest catalogue, the plane role's grants and the current limits."""
        await management.migrate_catalogue(connection)
        await management.grant_plane_access(
            connection, steps.plane_role_of(spec.tenant_name), spec.tenant
        )
        await management.register_tenant(connection, spec.tenant, spec.limits)


Hosting = SharedHosting | DedicatedHosting


def _endpoints_at(base: str) -> Endpoints:
    return Endpoints(api_url=base, sync_url="ws" + base.removeprefix("http"))


class LocalProvider(Provider):
    name = "local"

    def __init__(self, context: ProviderContext) -> None:
        super().__init__(context)
        self._engines: dict[str, AsyncEngine] = {}
        self.supervisor = ProcessSupervisor(self)
        self.modes: dict[DeploymentMode, Hosting] = {
            DeploymentMode.SHARED: SharedHosting(self),
            DeploymentMode.DEDICATED: DedicatedHosting(self),
        }

    def hosting(self, deployment: DeploymentSpec) -> Hosting:
        hosting = self.modes.get(deployment.mode)
        if hosting is None:
            raise ProvisioningError(f"the local provider cannot host {deployment.mode} plans")
        return hosting

    def database_for(self, deployment: DeploymentSpec) -> str:
        return self.hosting(deployment).database_for(deployment)

    def provision_steps(self, deployment: DeploymentSpec) -> Sequence[ProvisioningStep]:
        return self.hosting(deployment).steps(deployment)

    def endpoints(
        self, deployment: DeploymentSpec, outputs: dict[str, dict[str, Any]]
    ) -> Endpoints:
        return self.hosting(deployment).endpoints(deployment, outputs)

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

    async def set_serving_state(
        self, deployment: DeploymentSpec, state: ServingState, message: str | None = None
    ) -> None:
        async with self.transaction(self.database_for(deployment)) as connection:
            await management.set_serving_state(connection, deployment.id, state.value, message)

    async def holdings(self, deployment: DeploymentSpec) -> management.TenantHoldings:
        async with self.transaction(self.database_for(deployment)) as connection:
            return await management.tenant_holdings(connection, deployment.tenant)

    moves_between_modes = True

    async def freeze_tenant(self, deployment: DeploymentSpec) -> None:
        async with self.transaction(self.database_for(deployment)) as connection:
            await freeze.freeze(connection, deployment.tenant)

    async def thaw_tenant(self, deployment: DeploymentSpec) -> None:
        database = self.database_for(deployment)
        if not await admin.database_exists(self.context.server, database):
            return  # a dedicated source already removed has nothing left to thaw
        async with self.transaction(database) as connection:
            await freeze.thaw(connection, deployment.tenant)

    async def copy_tenant(
        self, source: DeploymentSpec, target: DeploymentSpec
    ) -> transfer.CopyReport:
        async with (
            self.transaction(self.database_for(source)) as reading,
            self.transaction(self.database_for(target)) as writing,
        ):
            return await transfer.copy_tenant(reading, writing, source.tenant)

    async def dump_tenant(self, deployment: DeploymentSpec) -> AsyncIterator[bytes]:
        async with self.transaction(self.database_for(deployment)) as connection:
            # one snapshot: the dump is of one moment even if a write slipped past the freeze
            await connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            async for chunk in dump.dump_tenant(connection, deployment.tenant):
                yield chunk

    async def restore_tenant(
        self, deployment: DeploymentSpec, chunks: AsyncIterator[bytes]
    ) -> transfer.CopyReport:
        async with self.transaction(self.database_for(deployment)) as connection:
            return await restore.restore_tenant(connection, deployment.tenant, chunks)

    async def tenant_digests(self, deployment: DeploymentSpec) -> dict[str, transfer.TableDigest]:
        async with self.transaction(self.database_for(deployment)) as connection:
            return await transfer.digests(connection, deployment.tenant)

    async def export_tenant(self, deployment: DeploymentSpec) -> AsyncIterator[str]:
        async with self.transaction(self.database_for(deployment)) as connection:
            async for line in transfer.export_rows(connection, deployment.tenant):
                yield line

    def engine(self, database: str) -> AsyncEngine:
        """A small pool per data-plane database, as the server's administrator."""
        if database not in self._engines:
            url = self.context.server.with_database(database)
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
            if steps.port_is_free(self.context.settings.host, port):
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

        async with self.context.sessions() as session:
            specs = [
                await deployments.spec_of(session, deployment)
                for deployment in await deployments_repository.all_active(session)
                if deployment.provider == self.name
            ]
        for spec in specs:
            hosting = self.hosting(spec)
            async with self.transaction(hosting.database_for(spec)) as connection:
                await hosting.refresh_directory(connection, spec)

    async def close(self) -> None:
        await self.supervisor.stop()
        for database in list(self._engines):
            await self.forget_database(database)

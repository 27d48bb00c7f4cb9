"""The local provider's steps: PostgreSQL objects on this machine and supervised processes."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import TYPE_CHECKING, Any

import httpx

from webhost.control.providers.base import ProvisioningStep, StepRun
from webhost.control.providers.context import prepare_shared_database
from webhost.control.providers.local import repository
from webhost.control.providers.local.models import DesiredState
from webhost.data.tenancy import management
from webhost.db import admin
from webhost.errors import ProvisioningError
from webhost.security.tokens import random_string

if TYPE_CHECKING:
    from webhost.control.providers.local.provider import LocalProvider

HEALTH_TIMEOUT_SECONDS = 60.0


class LocalStep(ProvisioningStep):
    def __init__(self, provider: LocalProvider, database: str) -> None:
        self.provider = provider
        self.database = database


class SharedPlaneDatabase(LocalStep):
    """The shared database and its tenant directory (shared by all tenants: never undone)."""

    name = "shared_database"

    async def apply(self, run: StepRun) -> dict[str, Any]:
        await prepare_shared_database(
            self.provider.context.server, self.provider.context.shared_database
        )
        return {"database": self.database}

    async def undo(self, run: StepRun) -> None:
        return None


class DedicatedDatabase(LocalStep):
    name = "database"

    async def apply(self, run: StepRun) -> dict[str, Any]:
        await admin.ensure_database(self.provider.context.server, self.database)
        async with self.provider.transaction(self.database) as connection:
            await connection.exec_driver_sql(
                f"REVOKE ALL ON DATABASE {admin.quote_ident(self.database)} FROM PUBLIC"
            )
        return {"database": self.database}

    async def undo(self, run: StepRun) -> None:
        await self.provider.forget_database(self.database)
        await admin.drop_database(self.provider.context.server, self.database)


class TenantRole(LocalStep):
    """The tenant's own role: it owns the tenant schema and every table in it."""

    name = "tenant_role"

    async def apply(self, run: StepRun) -> dict[str, Any]:
        async with self.provider.transaction(self.database) as connection:
            await management.ensure_role(connection, run.deployment.tenant_name)
        return {"role": run.deployment.tenant_name}

    async def undo(self, run: StepRun) -> None:
        async with self.provider.transaction(await self._existing_database()) as connection:
            await management.drop_role(connection, run.deployment.tenant_name)

    async def _existing_database(self) -> str:
        server = self.provider.context.server
        return self.database if await admin.database_exists(server, self.database) else "postgres"


class PlaneRole(TenantRole):
    """The login role a dedicated data-plane process connects with; it may act as the tenant."""

    name = "plane_role"

    async def apply(self, run: StepRun) -> dict[str, Any]:
        role = plane_role_name(run)
        password = await run.get_secret("plane_password", lambda: random_string(40))
        async with self.provider.transaction(self.database) as connection:
            await management.ensure_role(connection, role, password=password)
            # a retry after a crash must leave the stored password and the role in agreement
            await connection.exec_driver_sql(
                f"ALTER ROLE {admin.quote_ident(role)} LOGIN PASSWORD '{password}'"
            )
            await connection.exec_driver_sql(
                f"GRANT CONNECT ON DATABASE {admin.quote_ident(self.database)} "
                f"TO {admin.quote_ident(role)}"
            )
        return {"role": role}

    async def undo(self, run: StepRun) -> None:
        async with self.provider.transaction(await self._existing_database()) as connection:
            await management.drop_role(connection, plane_role_name(run))


def plane_role_name(run: StepRun) -> str:
    return plane_role_of(run.deployment.tenant_name)


def plane_role_of(tenant_name: str) -> str:
    """The login role of a dedicated tenant's data plane."""
    return f"{tenant_name}_plane"


class TenantSchema(LocalStep):
    name = "tenant_schema"

    async def apply(self, run: StepRun) -> dict[str, Any]:
        async with self.provider.transaction(self.database) as connection:
            await management.ensure_tenant_schema(connection, run.deployment.tenant)
        return {"schema": run.deployment.tenant_name}

    async def undo(self, run: StepRun) -> None:
        if not await admin.database_exists(self.provider.context.server, self.database):
            return
        async with self.provider.transaction(self.database) as connection:
            await management.drop_tenant_schema(connection, run.deployment.tenant)


class Catalogue(LocalStep):
    """The tenant directory of a dedicated database (dropped with the database)."""

    name = "catalogue"

    async def apply(self, run: StepRun) -> dict[str, Any]:
        async with self.provider.transaction(self.database) as connection:
            await management.migrate_catalogue(connection)
        return {}

    async def undo(self, run: StepRun) -> None:
        return None


class TenantMigrations(LocalStep):
    name = "tenant_migrations"

    async def apply(self, run: StepRun) -> dict[str, Any]:
        await management.migrate_tenant(self.provider.engine(self.database), run.deployment.tenant)
        return {}

    async def undo(self, run: StepRun) -> None:
        return None  # everything they created lives in the tenant schema


class TenantDirectory(LocalStep):
    """Register the tenant so its API keys resolve on the data plane."""

    name = "tenant_directory"

    def __init__(self, provider: LocalProvider, database: str, *, plane_role: bool) -> None:
        super().__init__(provider, database)
        self.plane_role = plane_role

    async def apply(self, run: StepRun) -> dict[str, Any]:
        async with self.provider.transaction(self.database) as connection:
            await management.register_tenant(
                connection, run.deployment.tenant, run.deployment.limits
            )
            if self.plane_role:
                await management.grant_plane_access(
                    connection, plane_role_name(run), run.deployment.tenant
                )
        return {}

    async def undo(self, run: StepRun) -> None:
        if not await admin.database_exists(self.provider.context.server, self.database):
            return
        async with self.provider.transaction(self.database) as connection:
            await management.unregister_tenant(connection, run.deployment.id)


class ProcessPort(LocalStep):
    """Claim a free port for the dedicated data plane; the URLs will point at it for good."""

    name = "port"

    async def apply(self, run: StepRun) -> dict[str, Any]:
        async with self.provider.context.sessions.begin() as session:
            existing = await repository.find(session, run.deployment.id)
            if existing is not None:
                return {"port": existing.port}
            taken = await repository.reserved_ports(session)
        for port in self.provider.context.settings.dedicated_port_range:
            if port in taken or not port_is_free(self.provider.context.settings.host, port):
                continue
            async with self.provider.context.sessions.begin() as session:
                if await repository.reserve(session, run.deployment.id, port) is not None:
                    return {"port": port}
        raise ProvisioningError(
            "no free port left in WEBHOST_DEDICATED_PORTS "
            f"({self.provider.context.settings.dedicated_ports})"
        )

    async def undo(self, run: StepRun) -> None:
        async with self.provider.context.sessions.begin() as session:
            await repository.release(session, run.deployment.id)


class DataPlaneProcess(LocalStep):
    """Ask the supervisor to run the tenant's data plane and wait until it answers."""

    name = "process"

    async def apply(self, run: StepRun) -> dict[str, Any]:
        port = int(run.outputs[ProcessPort.name]["port"])
        password = await run.get_secret("plane_password", lambda: random_string(40))
        database_url = (
            self.provider.context.server.with_database(self.database)
            .with_credentials(plane_role_name(run), password)
            .for_libpq()
        )
        environment = {
            "WEBHOST_DATAPLANE_DATABASE_URL": database_url,
            "WEBHOST_DATAPLANE_TENANT_ID": str(run.deployment.id),
        }
        sealed = self.provider.context.secret_box.seal_json(
            environment, context=f"local-process:{run.deployment.id}"
        )
        async with self.provider.context.sessions.begin() as session:
            await repository.set_desired(session, run.deployment.id, DesiredState.RUNNING, sealed)
        await self._wait_healthy(run, port)
        return {"port": port}

    async def _wait_healthy(self, run: StepRun, port: int) -> None:
        url = f"http://{self.provider.context.settings.host}:{port}/health"
        deadline = time.monotonic() + HEALTH_TIMEOUT_SECONDS
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < deadline:
                try:
                    response = await client.get(url)
                    if response.json().get("tenant") == str(run.deployment.id):
                        return
                except (httpx.HTTPError, ValueError):
                    pass
                await asyncio.sleep(0.25)
        raise ProvisioningError(
            f"the data-plane process on port {port} did not become healthy within "
            f"{HEALTH_TIMEOUT_SECONDS:.0f}s (is the supervisor running?)"
        )

    async def undo(self, run: StepRun) -> None:
        async with self.provider.context.sessions.begin() as session:
            if await repository.find(session, run.deployment.id) is None:
                return
            await repository.set_desired(session, run.deployment.id, DesiredState.STOPPED)
        port = run.outputs.get(ProcessPort.name, {}).get("port")
        if port is not None:
            await self.provider.wait_port_released(int(port))


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True

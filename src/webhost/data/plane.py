"""A running data plane: its database, the tenants it serves and their live Yjs rooms.

The shared data plane serves every tenant registered in its database; a dedicated one is
pinned to a single tenant and refuses keys of any other.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass, field

import asyncpg
import structlog
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from webhost.data.tenancy import management, repository
from webhost.data.tenancy.limits import TenantLimits
from webhost.data.tenancy.management import REVOCATION_CHANNEL
from webhost.data.tenancy.scope import Tenant
from webhost.data.yjs.room import RoomOptions
from webhost.data.yjs.rooms import RoomRegistry
from webhost.db import admin
from webhost.db.engine import create_engine
from webhost.db.urls import PostgresURL
from webhost.errors import Unauthorized
from webhost.security.api_keys import split_api_key
from webhost.security.tokens import digest_matches

log = structlog.get_logger(__name__)

REVOCATION_RETRY_SECONDS = 2.0


@dataclass(frozen=True)
class Caller:
    """Who is calling: the tenant, the key prefix they authenticated with, their plan's limits."""

    tenant: Tenant
    key_prefix: str
    limits: TenantLimits = field(default_factory=TenantLimits)


class DataPlane:
    def __init__(
        self,
        database_url: PostgresURL,
        *,
        only_tenant: uuid.UUID | None = None,
        max_body_bytes: int = 1_048_576,
        yjs: RoomOptions | None = None,
        pool_size: int = 10,
    ) -> None:
        self.database_url = database_url
        self.only_tenant = only_tenant
        self.max_body_bytes = max_body_bytes
        self.engine: AsyncEngine = create_engine(database_url, pool_size=pool_size)
        self.rooms = RoomRegistry(self.engine, database_url, yjs or RoomOptions())
        self._revocations: asyncio.Task[None] | None = None
        self._disconnects: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        async with self.engine.connect() as connection:
            tenants = await repository.registered_tenants(connection, only=self.only_tenant)
        upgraded = await management.migrate_tenants(self.engine, tenants)
        if upgraded:
            log.info("tenant schemas upgraded", tenants=upgraded)
        self._revocations = asyncio.create_task(self._follow_revocations(), name="revocations")

    async def close(self) -> None:
        if self._revocations is not None:
            self._revocations.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._revocations
        await self.rooms.close()
        await self.engine.dispose()

    async def _follow_revocations(self) -> None:
        """Close open sockets of revoked keys at once; re-subscribes if the connection drops."""
        while True:
            listener: asyncpg.Connection | None = None
            try:
                listener = await admin.connect(self.database_url)
                lost = asyncio.Event()
                listener.add_termination_listener(lambda _connection, lost=lost: lost.set())
                await listener.add_listener(REVOCATION_CHANNEL, self._on_revocation)
                # keys revoked while nobody was listening
                await self._disconnect_revoked(self.rooms.connected_key_prefixes())
                await lost.wait()
                log.warning("lost the key revocation listener; reconnecting")
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("key revocation listener unavailable", error=str(exc))
            finally:
                if listener is not None and not listener.is_closed():
                    await listener.close()
            await asyncio.sleep(REVOCATION_RETRY_SECONDS)

    async def _disconnect_revoked(self, prefixes: set[str]) -> None:
        if not prefixes:
            return
        async with self.engine.connect() as connection:
            revoked = await repository.revoked_prefixes(connection, sorted(prefixes))
        for prefix in revoked:
            await self.rooms.disconnect_key(prefix)

    def _on_revocation(self, _connection: object, _pid: int, _channel: str, prefix: object) -> None:
        task = asyncio.get_running_loop().create_task(self.rooms.disconnect_key(str(prefix)))
        self._disconnects.add(task)  # keep a reference until it is done
        task.add_done_callback(self._disconnects.discard)

    async def authenticate(
        self, raw_key: str | None, connection: AsyncConnection | None = None
    ) -> Caller:
        """Resolve an API key to its tenant; every failure reads the same to the caller.

        A request passes its own connection, so the key lookup costs no second one from the pool.
        """
        if not raw_key:
            raise Unauthorized(
                "missing API key: send 'Authorization: Bearer <key>' (or ?token= on WebSockets)"
            )
        prefix = split_api_key(raw_key)
        if prefix is None:
            raise Unauthorized("malformed API key")
        if connection is not None:
            record = await repository.find_key(connection, prefix)
        else:
            async with self.engine.connect() as own:
                record = await repository.find_key(own, prefix)
        if (
            record is None
            or record.revoked
            or not record.tenant_active
            or not digest_matches(record.secret_digest, raw_key.strip())
            or (self.only_tenant is not None and record.tenant.id != self.only_tenant)
        ):
            raise Unauthorized("invalid or revoked API key")
        return Caller(tenant=record.tenant, key_prefix=prefix, limits=record.limits)

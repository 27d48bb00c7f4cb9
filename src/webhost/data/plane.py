"""A running data plane: its database, the tenants it serves and their live Yjs rooms.

The shared data plane serves every tenant registered in its database; a dedicated one is
pinned to a single tenant and refuses keys of any other.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

import asyncpg
import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from webhost.data.tenancy import repository
from webhost.data.tenancy.scope import Tenant
from webhost.data.yjs.rooms import RoomRegistry
from webhost.db import admin
from webhost.db.engine import create_engine
from webhost.db.urls import PostgresURL
from webhost.errors import Unauthorized
from webhost.security.api_keys import split_api_key
from webhost.security.tokens import digest_matches

log = structlog.get_logger(__name__)

REVOCATION_CHANNEL = "webhost_key_revoked"


@dataclass(frozen=True)
class Caller:
    """Who is calling: the tenant and the key prefix they authenticated with."""

    tenant: Tenant
    key_prefix: str


class DataPlane:
    def __init__(
        self,
        database_url: PostgresURL,
        *,
        only_tenant: uuid.UUID | None = None,
        max_body_bytes: int = 1_048_576,
        yjs_compact_after: int = 200,
        pool_size: int = 10,
    ) -> None:
        self.database_url = database_url
        self.only_tenant = only_tenant
        self.max_body_bytes = max_body_bytes
        self.engine: AsyncEngine = create_engine(database_url, pool_size=pool_size)
        self.rooms = RoomRegistry(self.engine, compact_after=yjs_compact_after)
        self._listener: asyncpg.Connection | None = None

    async def start(self) -> None:
        """Listen for key revocations so open sockets using a revoked key are closed at once."""
        self._listener = await admin.connect(self.database_url)
        await self._listener.add_listener(REVOCATION_CHANNEL, self._on_revocation)

    async def close(self) -> None:
        await self.rooms.close()
        if self._listener is not None:
            await self._listener.close()
            self._listener = None
        await self.engine.dispose()

    def _on_revocation(self, _connection: object, _pid: int, _channel: str, prefix: object) -> None:
        asyncio.get_running_loop().create_task(self.rooms.disconnect_key(str(prefix)))

    async def authenticate(self, raw_key: str | None) -> Caller:
        """Resolve an API key to its tenant; every failure reads the same to the caller."""
        if not raw_key:
            raise Unauthorized(
                "missing API key: send 'Authorization: Bearer <key>' (or ?token= on WebSockets)"
            )
        prefix = split_api_key(raw_key)
        if prefix is None:
            raise Unauthorized("malformed API key")
        async with self.engine.connect() as connection:
            record = await repository.find_key(connection, prefix)
        if (
            record is None
            or record.revoked
            or not record.tenant_active
            or not digest_matches(record.secret_digest, raw_key.strip())
            or (self.only_tenant is not None and record.tenant.id != self.only_tenant)
        ):
            raise Unauthorized("invalid or revoked API key")
        return Caller(tenant=record.tenant, key_prefix=prefix)

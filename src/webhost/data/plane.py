"""A running data plane: its database, the tenants it serves and their live Yjs rooms.

The shared data plane serves every tenant registered in its database; a dedicated one is
pinned to a single tenant and refuses keys of any other.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import asyncpg
import structlog
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from webhost.data.collections.catalogue_cache import CHANGE_CHANNEL
from webhost.data.collections.catalogue_service import Catalogue
from webhost.data.collections.writes import RecordWriter
from webhost.data.fleet.ingest_service import PositionIngest
from webhost.data.fleet.live import FleetHub
from webhost.data.fleet.maintenance import maintain_periodically
from webhost.data.fleet.options import FleetOptions
from webhost.data.fleet.stream import PositionStreams
from webhost.data.fleet.webhook_delivery import WebhookDispatcher
from webhost.data.sync.committer import PushCommitter
from webhost.data.sync.compaction import compact_periodically
from webhost.data.sync.feed import RevisionFeed, take_notes
from webhost.data.sync.options import SyncOptions
from webhost.data.sync.tails import LiveHub
from webhost.data.tenancy import management, repository
from webhost.data.tenancy.key_cache import KeyCache
from webhost.data.tenancy.limits import TenantLimits
from webhost.data.tenancy.management import REVOCATION_CHANNEL
from webhost.data.tenancy.repository import KeyRecord, ServingState
from webhost.data.tenancy.scope import Tenant, enter_tenant
from webhost.data.yjs.room import RoomOptions
from webhost.data.yjs.rooms import RoomRegistry
from webhost.db import admin
from webhost.db.engine import create_engine
from webhost.db.urls import PostgresURL
from webhost.errors import Forbidden, PaymentRequired, ServiceBusy, Unauthorized
from webhost.security.api_keys import split_api_key
from webhost.security.tokens import digest_matches

log = structlog.get_logger(__name__)

NOTICE_RETRY_SECONDS = 2.0
SUSPENDED_MESSAGE = "this deployment is suspended; its owner can restore it in the dashboard"
HELD_MESSAGE = "this deployment is moving to another server; send the request again shortly"
HELD_RETRY_SECONDS = 2
_AFTER_COMMIT = "webhost.after_commit"


@dataclass(frozen=True)
class Caller:
    """Who is calling: the tenant, the key prefix they authenticated with, their plan's limits,
    and the key's scope (``full``, or ``ingest`` for a device key)."""

    tenant: Tenant
    key_prefix: str
    limits: TenantLimits = field(default_factory=TenantLimits)
    scope: str = "full"


class DataPlane:
    def __init__(
        self,
        database_url: PostgresURL,
        *,
        only_tenant: uuid.UUID | None = None,
        max_body_bytes: int = 1_048_576,
        yjs: RoomOptions | None = None,
        sync: SyncOptions | None = None,
        fleet: FleetOptions | None = None,
        pool_size: int = 10,
        management_token: SecretStr | None = None,
    ) -> None:
        self.database_url = database_url
        self.only_tenant = only_tenant
        # set: the plane serves its management API (/_manage/v1) and owns its tenant directory
        self.management_token = management_token
        self.max_body_bytes = max_body_bytes
        self.engine: AsyncEngine = create_engine(database_url, pool_size=pool_size)
        self.rooms = RoomRegistry(self.engine, database_url, yjs or RoomOptions())
        self.catalogue = Catalogue()
        self.writer = RecordWriter()
        self.sync = sync or SyncOptions()
        self.fleet = fleet or FleetOptions()
        self.fleet_hub = FleetHub()
        self.webhooks = WebhookDispatcher(self.engine, only_tenant, self.fleet)
        self.sender_keys = KeyCache()
        self.position_ingest = PositionIngest(self)
        self.fleet_streams = PositionStreams()
        self.feed = RevisionFeed()
        self.live = LiveHub(self, poll_seconds=self.sync.live_poll_seconds)
        self.pushes = PushCommitter(self)
        self._notices: asyncio.Task[None] | None = None
        self._compaction: asyncio.Task[None] | None = None
        self._fleet_maintenance: asyncio.Task[None] | None = None
        self._webhook_delivery: asyncio.Task[None] | None = None
        self._disconnects: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        if self.management_token is not None:
            async with self.engine.begin() as connection:
                await management.migrate_catalogue(connection)
        async with self.engine.connect() as connection:
            tenants = await repository.registered_tenants(connection, only=self.only_tenant)
        upgraded = await management.migrate_tenants(self.engine, tenants)
        if upgraded:
            log.info("tenant schemas upgraded", tenants=upgraded)
        self._notices = asyncio.create_task(self._follow_notices(), name="directory notices")
        self._compaction = asyncio.create_task(
            compact_periodically(
                self.engine,
                self.only_tenant,
                self.sync.tombstone_retention_seconds,
                self.sync.compaction_interval_seconds,
            ),
            name="sync compaction",
        )
        self._fleet_maintenance = asyncio.create_task(
            maintain_periodically(
                self.engine, self.only_tenant, self.fleet.maintenance_interval_seconds
            ),
            name="fleet maintenance",
        )
        self._webhook_delivery = asyncio.create_task(self.webhooks.run(), name="fleet webhooks")

    async def close(self) -> None:
        for task in (
            self._notices,
            self._compaction,
            self._fleet_maintenance,
            self._webhook_delivery,
        ):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.live.close()
        self.fleet_streams.close()
        await self.rooms.close()
        await self.engine.dispose()

    @contextlib.asynccontextmanager
    async def transaction(
        self, tenant: Tenant | None = None, *, key_lookups: bool = False
    ) -> AsyncIterator[AsyncConnection]:
        """A transaction (entered into ``tenant`` when given, see ``enter_tenant``) whose
        changes are announced to live followers once it has committed."""
        async with self.engine.begin() as connection:
            # left by a transaction that rolled back on this connection
            take_notes(connection)
            connection.info.pop(_AFTER_COMMIT, None)
            if tenant is not None:
                await enter_tenant(connection, tenant, key_lookups=key_lookups)
            yield connection
            notes = take_notes(connection)
            callbacks: list[Callable[[], None]] = connection.info.pop(_AFTER_COMMIT, [])
        self.feed.announce(notes)
        for callback in callbacks:
            callback()

    @staticmethod
    def after_commit(connection: AsyncConnection, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the plane's transaction on ``connection`` has committed (never
        when it rolls back): for news that must not get out before the data is durable."""
        connection.info.setdefault(_AFTER_COMMIT, []).append(callback)

    async def _follow_notices(self) -> None:
        """Close sockets of revoked keys at once, and drop cached schemas of changed collections.

        Re-subscribes when the connection drops; what changed meanwhile is caught up then.
        """
        while True:
            listener: asyncpg.Connection | None = None
            try:
                listener = await admin.connect(self.database_url)
                lost = asyncio.Event()
                listener.add_termination_listener(lambda _connection, lost=lost: lost.set())
                await listener.add_listener(REVOCATION_CHANNEL, self._on_revocation)
                await listener.add_listener(CHANGE_CHANNEL, self._on_collection_change)
                # notices missed while nobody was listening
                self.catalogue.cache.clear()
                self.sender_keys.clear()
                await self._disconnect_revoked(
                    self.rooms.connected_key_prefixes()
                    | self.live.connected_key_prefixes()
                    | self.fleet_hub.connected_key_prefixes()
                    | self.fleet_streams.connected_key_prefixes()
                )
                await lost.wait()
                log.warning("lost the directory notice listener; reconnecting")
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("directory notice listener unavailable", error=str(exc))
            finally:
                if listener is not None and not listener.is_closed():
                    await listener.close()
            self.catalogue.cache.clear()
            await asyncio.sleep(NOTICE_RETRY_SECONDS)

    def _on_collection_change(
        self, _connection: object, _pid: int, _channel: str, payload: object
    ) -> None:
        self.catalogue.cache.on_change_notice(str(payload))

    async def _disconnect_revoked(self, prefixes: set[str]) -> None:
        if not prefixes:
            return
        async with self.engine.connect() as connection:
            revoked = await repository.revoked_prefixes(connection, sorted(prefixes))
        for prefix in revoked:
            self.live.disconnect_key(prefix)
            self.fleet_hub.disconnect_key(prefix)
            self.fleet_streams.disconnect_key(prefix)
            await self.rooms.disconnect_key(prefix)

    def _on_revocation(self, _connection: object, _pid: int, _channel: str, prefix: object) -> None:
        self.sender_keys.drop(str(prefix))
        self.live.disconnect_key(str(prefix))
        self.fleet_hub.disconnect_key(str(prefix))
        self.fleet_streams.disconnect_key(str(prefix))
        task = asyncio.get_running_loop().create_task(self.rooms.disconnect_key(str(prefix)))
        self._disconnects.add(task)  # keep a reference until it is done
        task.add_done_callback(self._disconnects.discard)

    async def authenticate(
        self, raw_key: str | None, connection: AsyncConnection | None = None
    ) -> Caller:
        """Resolve an API key to its tenant; every failure reads the same to the caller.

        A request passes its own connection, so the key lookup costs no second one from the pool.
        """
        prefix = _key_prefix(raw_key)
        if connection is not None:
            record = await repository.find_key(connection, prefix)
        else:
            async with self.engine.connect() as own:
                record = await repository.find_key(own, prefix)
        return _caller(prefix, self._verified(raw_key, record, ingest=False))

    async def authenticate_sender(self, raw_key: str | None) -> Caller:
        """A caller that may send positions, device keys (scope ``ingest``) included.

        The key comes from the cache of recent keys when it is there (key_cache.py): only the
        position write path takes such callers, and it checks their keys again as it stores.
        """
        prefix = _key_prefix(raw_key)
        cached = self.sender_keys.get(prefix)
        if cached is not None:
            return _caller(prefix, self._verified(raw_key, cached, ingest=True))
        async with self.engine.connect() as own:
            record = await repository.find_key(own, prefix)
        verified = self._verified(raw_key, record, ingest=True)
        self.sender_keys.put(prefix, verified)  # from now, for at most its time to live
        return _caller(prefix, verified)

    def _verified(
        self, raw_key: str | None, record: KeyRecord | None, *, ingest: bool
    ) -> KeyRecord:
        if (
            record is None
            or record.revoked
            or not digest_matches(record.secret_digest, (raw_key or "").strip())
            or (self.only_tenant is not None and record.tenant.id != self.only_tenant)
        ):
            raise Unauthorized("invalid or revoked API key")
        # told only to holders of a valid key: others learn nothing of the deployment
        if record.tenant_state == ServingState.SUSPENDED:
            raise PaymentRequired(record.state_message or SUSPENDED_MESSAGE)
        if record.tenant_state == ServingState.HELD:
            raise ServiceBusy(
                record.state_message or HELD_MESSAGE, retry_after_seconds=HELD_RETRY_SECONDS
            )
        if record.scope != "full" and not ingest:
            raise Forbidden("this is a device key: it may only send positions (/v1/fleet)")
        return record


def _caller(prefix: str, record: KeyRecord) -> Caller:
    return Caller(tenant=record.tenant, key_prefix=prefix, limits=record.limits, scope=record.scope)


def _key_prefix(raw_key: str | None) -> str:
    if not raw_key:
        raise Unauthorized(
            "missing API key: send 'Authorization: Bearer <key>' (or ?token= on WebSockets)"
        )
    prefix = split_api_key(raw_key)
    if prefix is None:
        raise Unauthorized("malformed API key")
    return prefix

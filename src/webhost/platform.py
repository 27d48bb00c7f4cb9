"""The control plane's shared state: databases, secrets, the job queue and the providers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import procrastinate
import structlog
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from webhost.config import Settings
from webhost.control.billing.stripe_billing import StripeBilling
from webhost.control.billing.suspension import PlaneStates
from webhost.control.keys.courier import KeyCourier
from webhost.control.providers.context import (
    ProviderContext,
    prepare_shared_database,
    shared_database_of,
)
from webhost.control.providers.registry import Providers
from webhost.db import admin, migrate
from webhost.db.embedded import EmbeddedPostgres
from webhost.db.engine import create_engine, create_session_factory
from webhost.db.urls import PostgresURL
from webhost.errors import ConfigurationError
from webhost.jobs import create_job_app
from webhost.security.passwords import Passwords
from webhost.security.secret_box import SecretBox, decode_key, load_or_create_key
from webhost.security.signing import derive_key

log = structlog.get_logger(__name__)

EMBEDDED_CONTROL_DATABASE = "webhost"


@dataclass
class Platform:
    settings: Settings
    server: PostgresURL
    control_database: PostgresURL
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    secret_box: SecretBox
    jobs: procrastinate.App
    embedded: EmbeddedPostgres | None
    passwords: Passwords
    # signs the dashboard's CSRF tokens and pre-session cookies
    csrf_key: bytes
    providers: Providers = field(init=False)
    # key changes on their way to the data planes (an outbox, delivered after commit)
    key_courier: KeyCourier = field(init=False)
    # tells data planes whether their deployments are served (suspension for non-payment)
    planes: PlaneStates = field(init=False)
    # None unless Stripe's keys are set: plans are then assigned directly
    billing: StripeBilling | None = field(init=False, default=None)
    # set when shutdown begins, so long-lived responses (event streams) end on their own
    stopping: asyncio.Event = field(init=False, default_factory=asyncio.Event)

    @property
    def shared_database(self) -> PostgresURL:
        return shared_database_of(self.control_database)

    @classmethod
    async def open(cls, settings: Settings, *, migrate_schema: bool = True) -> Platform:
        """Reach (or start) PostgreSQL, bring the control database up to date, wire services."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if settings.database_url is not None:
            control = PostgresURL.parse(settings.database_url.get_secret_value())
            return await cls._connect(settings, control, None, migrate_schema=migrate_schema)
        embedded = EmbeddedPostgres(settings.data_dir)
        server = embedded.start()
        try:
            control = server.with_database(EMBEDDED_CONTROL_DATABASE)
            await admin.ensure_database(server, control.database)
            return await cls._connect(settings, control, embedded, migrate_schema=migrate_schema)
        except BaseException:
            embedded.stop()  # a failed start leaves the server as it found it
            raise

    @classmethod
    async def _connect(
        cls,
        settings: Settings,
        control: PostgresURL,
        embedded: EmbeddedPostgres | None,
        *,
        migrate_schema: bool,
    ) -> Platform:
        engine = create_engine(control)
        try:
            if migrate_schema:
                async with engine.begin() as connection:
                    await migrate.upgrade(connection, migrate.CONTROL)
        except (OSError, DBAPIError) as exc:
            await engine.dispose()
            reason = exc.orig if isinstance(exc, DBAPIError) else exc
            detail = str(reason).strip().splitlines()[0] if str(reason).strip() else ""
            raise ConfigurationError(
                f"cannot use PostgreSQL at {control.redacted()}: {detail or type(reason).__name__}"
            ) from exc
        secret_key = _secret_key(settings)
        secret_box = SecretBox(secret_key)
        platform = cls(
            settings=settings,
            server=control.with_database("postgres"),
            control_database=control,
            engine=engine,
            sessions=create_session_factory(engine),
            secret_box=secret_box,
            jobs=create_job_app(control),
            embedded=embedded,
            passwords=Passwords(
                concurrency=settings.password_hash_concurrency,
                queue_limit=settings.password_hash_queue,
            ),
            csrf_key=derive_key(secret_key, "webhost dashboard csrf"),
        )
        platform.providers = Providers(
            ProviderContext(
                settings=settings,
                server=platform.server,
                control_database=control,
                sessions=platform.sessions,
                secret_box=secret_box,
            ),
            configured=settings.provider,
        )
        platform.key_courier = KeyCourier(platform.sessions, platform.providers)
        platform.planes = PlaneStates(platform.sessions, platform.providers)
        platform.billing = StripeBilling.from_settings(settings, platform.planes)
        return platform

    async def prepare_shared_plane(self) -> None:
        """The shared data plane's database and tenant directory exist before it serves."""
        await prepare_shared_database(self.server, self.shared_database)

    async def close(self) -> None:
        try:
            self.passwords.close()
            await self.providers.close()
            if self.billing is not None:
                await self.billing.close()
            await self.engine.dispose()
        finally:
            if self.embedded is not None:
                self.embedded.stop()


def _secret_key(settings: Settings) -> bytes:
    if settings.secret_key is not None:
        return decode_key(settings.secret_key.get_secret_value())
    return load_or_create_key(settings.data_dir / "secret.key")

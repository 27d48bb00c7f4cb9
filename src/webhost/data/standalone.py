"""A data plane as a process of its own (``webhost dataplane``).

Three ways to run: a dedicated plane the local supervisor starts (its database and tenant
given), a managed plane on a database of its own (management token given), or an embedded
plane for a machine that has nothing but the image and a volume: PostgreSQL in the data
directory, every registered tenant served (or only ``WEBHOST_DATAPLANE_TENANT_ID``), and
provisioned through the management API.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

import uvicorn

from webhost.config import Settings
from webhost.data.app import create_data_app
from webhost.data.fleet.options import FleetOptions
from webhost.data.plane import DataPlane
from webhost.data.sync.options import SyncOptions
from webhost.data.yjs.room import RoomOptions
from webhost.db import admin
from webhost.db.embedded import EmbeddedPostgres
from webhost.db.urls import PostgresURL
from webhost.errors import ConfigurationError
from webhost.http.server import server_config
from webhost.runtime import bind

# the one database of an embedded plane's PostgreSQL
EMBEDDED_PLANE_DATABASE = "webhost_plane"


class _PlaneServer(uvicorn.Server):
    """uvicorn re-raises SIGTERM/SIGINT once it has shut down, which would end the process
    before the embedded PostgreSQL is stopped: the stop is clean, so the exit is too."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            try:
                yield
            finally:
                self._captured_signals.clear()


@dataclass(frozen=True)
class PlaneDatabase:
    url: PostgresURL
    embedded: EmbeddedPostgres | None = None


def check_settings(settings: Settings, *, embedded: bool) -> None:
    """Refuse at once what cannot work, before a port or a database is touched."""
    check_tls(settings)
    if embedded:
        if settings.dataplane_management_token is None:
            raise ConfigurationError(
                "webhost dataplane --embedded needs WEBHOST_DATAPLANE_MANAGEMENT_TOKEN: the "
                "control plane provisions an embedded plane through its management API"
            )
        return
    if settings.dataplane_database_url is None:
        raise ConfigurationError(
            "webhost dataplane needs WEBHOST_DATAPLANE_DATABASE_URL (the supervisor sets it), "
            "or --embedded to keep its own database in WEBHOST_DATA_DIR"
        )
    if settings.dataplane_tenant_id is None and settings.dataplane_management_token is None:
        raise ConfigurationError(
            "webhost dataplane needs WEBHOST_DATAPLANE_TENANT_ID (the supervisor sets it), "
            "or WEBHOST_DATAPLANE_MANAGEMENT_TOKEN to serve every tenant it is given"
        )


def check_tls(settings: Settings) -> None:
    files = {
        "WEBHOST_DATAPLANE_TLS_CERTIFICATE_FILE": settings.dataplane_tls_certificate_file,
        "WEBHOST_DATAPLANE_TLS_KEY_FILE": settings.dataplane_tls_key_file,
    }
    given = [name for name, path in files.items() if path is not None]
    if len(given) == 1:
        missing = next(name for name in files if name not in given)
        raise ConfigurationError(f"{given[0]} is set but {missing} is not: HTTPS needs both")
    for name, path in files.items():
        if path is not None and not os.access(path, os.R_OK):
            raise ConfigurationError(f"{name} names {path}, which this process cannot read")


def tls_options(settings: Settings) -> dict[str, str]:
    """uvicorn's options to serve HTTPS, when the plane has a certificate."""
    if settings.dataplane_tls_certificate_file is None or settings.dataplane_tls_key_file is None:
        return {}
    return {
        "ssl_certfile": str(settings.dataplane_tls_certificate_file),
        "ssl_keyfile": str(settings.dataplane_tls_key_file),
    }


def open_database(settings: Settings, *, embedded: bool) -> PlaneDatabase:
    if not embedded:
        assert settings.dataplane_database_url is not None
        url = PostgresURL.parse(
            settings.dataplane_database_url.get_secret_value(),
            setting="WEBHOST_DATAPLANE_DATABASE_URL",
        )
        return PlaneDatabase(url)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    server = EmbeddedPostgres(settings.data_dir)
    try:
        url = server.start().with_database(EMBEDDED_PLANE_DATABASE)
        asyncio.run(admin.ensure_database(url, EMBEDDED_PLANE_DATABASE))
    except BaseException:
        server.stop()  # a failed start leaves the server as it found it
        raise
    return PlaneDatabase(url, server)


def serve(settings: Settings, host: str, port: int, *, embedded: bool) -> None:
    """Serve until signalled; an embedded PostgreSQL is stopped on the way out."""
    check_settings(settings, embedded=embedded)
    # bound like the runtime's sockets, so accepted connections get TCP_NODELAY
    listening = bind(host, port)
    database = open_database(settings, embedded=embedded)
    try:
        plane = DataPlane(
            database.url,
            only_tenant=settings.dataplane_tenant_id,
            max_body_bytes=settings.max_body_bytes,
            yjs=RoomOptions.from_settings(settings),
            sync=SyncOptions.from_settings(settings),
            fleet=FleetOptions.from_settings(settings),
            management_token=settings.dataplane_management_token,
        )
        config = server_config(create_data_app(plane), **tls_options(settings))
        _PlaneServer(config).run(sockets=[listening])
    finally:
        listening.close()
        if database.embedded is not None:
            database.embedded.stop()

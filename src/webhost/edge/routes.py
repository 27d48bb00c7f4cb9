"""Which plane serves each deployment now, read from the control database and kept fresh.

The control plane sends a notice on ``webhost_routes`` in the transaction that changes a
deployment's plane, so the edge reloads within moments of a switch; a miss reloads too (a
deployment activated a moment ago), and a periodic reload covers notices lost while the
listening connection was down.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import asyncpg
import structlog

from webhost.db import admin
from webhost.db.urls import PostgresURL

log = structlog.get_logger(__name__)

ROUTES_CHANNEL = "webhost_routes"
RELOAD_SECONDS = 10.0
# a miss reloads at most this often, so unknown slugs cannot hammer the control database
MISS_RELOAD_SECONDS = 0.5
PREFIX = "/d/"


@dataclass(frozen=True)
class Route:
    host: str
    port: int
    # the plane's own path prefix (empty for a plane served at its root)
    base_path: str

    @classmethod
    def from_url(cls, url: str) -> Route:
        parts = urlsplit(url)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"the edge passes requests to http:// planes only, not {url!r}")
        return cls(parts.hostname, parts.port or 80, parts.path.rstrip("/"))


def split_target(target: str) -> tuple[str, str] | None:
    """``/d/<slug>/rest?query`` -> (slug, ``/rest?query``); None when not under the prefix."""
    if not target.startswith(PREFIX):
        return None
    remainder = target[len(PREFIX) :]
    end = len(remainder)
    for separator in "/?":
        found = remainder.find(separator)
        if found != -1:
            end = min(end, found)
    slug, rest = remainder[:end], remainder[end:]
    if not slug:
        return None
    if not rest.startswith("/"):
        rest = "/" + rest
    return slug, rest


class EdgeRoutes:
    def __init__(self, control_database: PostgresURL) -> None:
        self.control_database = control_database
        self._routes: dict[str, Route] = {}
        self._loaded_at = 0.0
        self._reloading: asyncio.Lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self.ready = asyncio.Event()

    def get(self, slug: str) -> Route | None:
        return self._routes.get(slug)

    async def resolve(self, slug: str) -> Route | None:
        route = self._routes.get(slug)
        if route is None and time.monotonic() - self._loaded_at > MISS_RELOAD_SECONDS:
            await self.reload()
            route = self._routes.get(slug)
        return route

    async def reload(self) -> None:
        async with self._reloading:
            connection = await admin.connect(self.control_database)
            try:
                rows = await connection.fetch(
                    "SELECT substr(tenant_name, 3) AS slug, plane_url FROM deployments "
                    "WHERE plane_url IS NOT NULL AND status <> 'deleted'"
                )
            finally:
                await connection.close()
            routes: dict[str, Route] = {}
            for row in rows:
                try:
                    routes[row["slug"]] = Route.from_url(row["plane_url"])
                except ValueError as exc:
                    log.warning("edge cannot route a deployment", slug=row["slug"], error=str(exc))
            self._routes = routes
            self._loaded_at = time.monotonic()
            self.ready.set()

    async def run(self) -> None:
        """Listen for route notices and reload; returns only when cancelled."""
        while True:
            listener: asyncpg.Connection | None = None
            try:
                listener = await admin.connect(self.control_database)
                await listener.add_listener(ROUTES_CHANNEL, self._on_notice)
                await self.reload()  # after listening: no change falls between the two
                while True:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), RELOAD_SECONDS)
                    self._wake.clear()
                    await self.reload()
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("edge lost the control database; retrying", error=str(exc))
                await asyncio.sleep(1.0)
            finally:
                if listener is not None:
                    with contextlib.suppress(OSError, asyncpg.PostgresError):
                        await listener.close()

    def _on_notice(self, *_: object) -> None:
        self._wake.set()

"""The shared hosts' side of the hetzner provider's tests: real data planes, one per server.

A server made in the fake Hetzner Cloud "boots" on the first request for its host: a real data
plane starts with the management token its cloud-init user data carries (nothing else knows
it), on a data-plane database of its own. The control plane reaches each host through one
router at ``{url}/{host_id}`` (WEBHOST_HETZNER_PLANE_URL), as it would through the host's name.
"""

from __future__ import annotations

import asyncio
import re
import threading
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.database import create_dataplane_database
from tests.support.fakes.hetzner import FakeHetzner
from tests.support.servers import ServedApp
from webhost.data.app import create_data_app
from webhost.data.plane import DataPlane
from webhost.db.urls import PostgresURL

_TOKEN = re.compile(r"WEBHOST_DATAPLANE_MANAGEMENT_TOKEN=([A-Za-z0-9]+)")
_HOP_BY_HOP = {"host", "content-length", "content-encoding", "connection", "transfer-encoding"}


@dataclass
class BootedPlane:
    served: ServedApp
    database: PostgresURL
    management_token: str

    @property
    def url(self) -> str:
        return self.served.url


@dataclass
class SharedHostPlanes:
    hetzner: FakeHetzner
    server: PostgresURL
    planes: dict[str, BootedPlane] = field(default_factory=dict)
    router: ServedApp | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def plane_url_template(self) -> str:
        assert self.router is not None
        return f"{self.router.url}/{{host_id}}"

    def start(self) -> SharedHostPlanes:
        async def build() -> Starlette:
            methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
            return Starlette(
                routes=[Route("/{host_id}/{path:path}", self._forward, methods=methods)]
            )

        self.router = ServedApp(build).start()
        return self

    def stop(self) -> None:
        for plane in self.planes.values():
            plane.served.stop()
        if self.router is not None:
            self.router.stop()

    def user_data_of(self, host_id: str) -> str | None:
        with self.hetzner.lock:
            for server_id, server in self.hetzner.project.servers.items():
                if server["labels"].get("webhost.host") == host_id:
                    return self.hetzner.project.user_data.get(server_id, "")
        return None

    def boot(self, host_id: str) -> BootedPlane | None:
        """The host's plane, started the first time it is asked for; None without a server."""
        with self._lock:
            if host_id in self.planes:
                return self.planes[host_id]
            user_data = self.user_data_of(host_id)
            if user_data is None:
                return None
            found = _TOKEN.search(user_data)
            assert found is not None, "the user data carries no management token"
            token = found.group(1)
            database = create_dataplane_database(self.server, timescaledb=False)

            async def build() -> Any:
                plane = DataPlane(database, pool_size=2, management_token=SecretStr(token))
                return create_data_app(plane)

            booted = BootedPlane(ServedApp(build).start(), database, token)
            self.planes[host_id] = booted
            return booted

    async def _forward(self, request: Request) -> Response:
        host_id = request.path_params["host_id"]
        plane = await asyncio.to_thread(self.boot, host_id)
        if plane is None:
            return Response("no such host", status_code=502)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        async with httpx.AsyncClient(base_url=plane.url, timeout=60) as client:
            answer = await client.request(
                request.method,
                "/" + request.path_params["path"],
                params=request.query_params.multi_items(),
                content=await request.body(),
                headers=headers,
            )
        kept = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP}
        return Response(answer.content, status_code=answer.status_code, headers=kept)

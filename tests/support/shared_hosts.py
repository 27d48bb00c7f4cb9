"""The shared hosts' side of the hetzner provider's tests: real data planes, one per server.

A server made in the fake Hetzner Cloud "boots" on the first request for its host: a real data
plane starts with the management token and the origin certificate and key its cloud-init user
data carries (nothing else knows them), serving HTTPS on a data-plane database of its own. The
control plane reaches each host through one router at ``{url}/{host_id}``
(WEBHOST_HETZNER_PLANE_URL), which plays Cloudflare's edge in Full (strict) mode: it speaks TLS
to the host and accepts only a certificate of the fake Origin CA for the host's name.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.database import create_dataplane_database
from tests.support.fakes.cloudflare import FakeCloudflare
from tests.support.fakes.hetzner import FakeHetzner
from tests.support.servers import ServedApp
from webhost.control.providers.hetzner.cloud_init import TLS_CERTIFICATE, TLS_KEY
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
    # the name its certificate is for, which a TLS client must ask for
    tls_name: str

    @property
    def url(self) -> str:
        return self.served.url


def origin_tls(ca_pem: str, *, check_hostname: bool = True) -> ssl.SSLContext:
    """What Cloudflare's edge trusts of an origin: the Origin CA alone."""
    context = ssl.create_default_context(cadata=ca_pem)
    context.check_hostname = check_hostname
    return context


def written_file(user_data: str, path: str) -> str:
    for written in yaml.safe_load(user_data.removeprefix("#cloud-config\n"))["write_files"]:
        if written["path"] == path:
            return str(written["content"])
    raise AssertionError(f"the user data writes no {path}")


@dataclass
class SharedHostPlanes:
    hetzner: FakeHetzner
    server: PostgresURL
    cloudflare: FakeCloudflare
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
            files = Path(tempfile.mkdtemp(prefix=f"host-{host_id}-"))
            (files / "origin.pem").write_text(written_file(user_data, TLS_CERTIFICATE))
            (files / "origin.key").write_text(written_file(user_data, TLS_KEY))
            tls = (str(files / "origin.pem"), str(files / "origin.key"))
            name = f"host-{host_id}.{self.cloudflare.zone.name}"

            async def build() -> Any:
                plane = DataPlane(database, pool_size=2, management_token=SecretStr(token))
                return create_data_app(plane)

            booted = BootedPlane(ServedApp(build, tls=tls).start(), database, token, name)
            self.planes[host_id] = booted
            return booted

    async def _forward(self, request: Request) -> Response:
        host_id = request.path_params["host_id"]
        plane = await asyncio.to_thread(self.boot, host_id)
        if plane is None:
            return Response("no such host", status_code=502)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        verify = origin_tls(self.cloudflare.origin_ca.ca_pem)
        async with httpx.AsyncClient(base_url=plane.url, timeout=60, verify=verify) as client:
            answer = await client.request(
                request.method,
                "/" + request.path_params["path"],
                params=request.query_params.multi_items(),
                content=await request.body(),
                headers=headers,
                extensions={"sni_hostname": plane.tls_name},
            )
        kept = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP}
        return Response(answer.content, status_code=answer.status_code, headers=kept)

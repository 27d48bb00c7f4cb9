"""A platform in its cloud shape for move tests: Hobby on shared Hetzner hosts, paid plans on
Fly.io apps, every deployment behind its stable Cloudflare hostnames; all three fakes, with
real data planes behind them (a shared host's plane per server, a Fly machine's plane as the
image runs it).

``StableNameProxy`` plays Cloudflare's edge for one deployment: each new connection goes where
the deployment's API hostname record leads now (a host's address, or ``<app>.fly.dev``), and
connections still open to a plane the record no longer names are cut, as the edge's would be
on a switch, so clients reconnect to where the deployment is served.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.support.factories import operator_client
from tests.support.fakes.cloudflare import FakeCloudflare, serve_fake_cloudflare
from tests.support.fakes.flyio import FakeFly, serve_fake_fly
from tests.support.fakes.hetzner import FakeHetzner, serve_fake_hetzner
from tests.support.fly_runtime import FlyRuntime
from tests.support.inspect import query
from tests.support.platform import PlatformThread, start_platform
from tests.support.proxy import FaultyProxy, Mode
from tests.support.servers import free_port
from tests.support.shared_hosts import SharedHostPlanes, origin_tls
from webhost.db.urls import PostgresURL

HETZNER_TOKEN = "b" * 64
FLY_TOKEN = "fo1_fake-fly-token-for-moves-7c1d"
FLY_ORG = "webhost-ops"
CLOUDFLARE_TOKEN = "cf-token-moves-Vd7Lq2Xw"
ZONE = "example.com"
DEDICATED_PLANS = ("starter", "professional", "business")
# a plane's port, and the TLS (trust, server name) an edge speaks to it, if any
Upstream = tuple[int, tuple[ssl.SSLContext, str] | None]


@dataclass
class Cloud:
    platform: PlatformThread
    hetzner: FakeHetzner
    host_planes: SharedHostPlanes
    fly: FakeFly
    runtime: FlyRuntime
    cloudflare: FakeCloudflare
    proxies: list[StableNameProxy] = field(default_factory=list)

    def upstream_of(self, deployment_id: str) -> Upstream | None:
        """The plane the deployment's API hostname leads to now: its port, and for a shared
        host the TLS the edge speaks to it (Full (strict): only the Origin CA's certificate)."""
        slug = deployment_id.replace("-", "")[:16]
        records = self.cloudflare.records(f"{slug}.api.{ZONE}")
        if not records:
            return None
        record = records[0]
        if record["type"] == "CNAME" and record["content"].endswith(".fly.dev"):
            port = urlsplit(self.runtime.plane_url).port
            return None if port is None else (port, None)
        hosts = query(
            self.platform.control_database,
            "SELECT id FROM shared_hosts WHERE address = $1",
            record["content"],
        )
        if not hosts:
            return None
        plane = self.host_planes.boot(hosts[0][0])
        port = None if plane is None else urlsplit(plane.url).port
        if plane is None or port is None:
            return None
        trust = origin_tls(self.cloudflare.origin_ca.ca_pem)
        # the edge asks the host for the name the client asked the edge for
        return port, (trust, f"{slug}.api.{ZONE}")

    def proxy_for(self, deployment_id: str) -> StableNameProxy:
        proxy = StableNameProxy(self, deployment_id).start()
        self.proxies.append(proxy)
        return proxy


class StableNameProxy:
    """Loopback stand-in for ``https://{slug}.api.<zone>`` and ``wss://{slug}.sync.<zone>``."""

    def __init__(self, cloud: Cloud, deployment_id: str) -> None:
        self.cloud = cloud
        self.deployment_id = deployment_id
        self.switches = 0
        self._proxy: FaultyProxy | None = None
        self._stop = threading.Event()
        self._watcher = threading.Thread(target=self._follow, daemon=True)

    @property
    def url(self) -> str:
        assert self._proxy is not None
        return self._proxy.url

    @property
    def ws_url(self) -> str:
        assert self._proxy is not None
        return self._proxy.ws_url

    def start(self) -> StableNameProxy:
        upstream = self.cloud.upstream_of(self.deployment_id)
        assert upstream is not None, "the deployment's hostname leads nowhere yet"
        self._proxy = FaultyProxy(upstream[0])
        self._proxy.upstream_tls = upstream[1]
        self._proxy.start()
        self._watcher.start()
        return self

    def _follow(self) -> None:
        while not self._stop.wait(0.1):
            upstream = self.cloud.upstream_of(self.deployment_id)
            assert self._proxy is not None
            if upstream is not None and upstream[0] != self._proxy.upstream_port:
                self._proxy.upstream_tls = upstream[1]
                self._proxy.switch(Mode.PASS, upstream_port=upstream[0])
                self.switches += 1

    def stop(self) -> None:
        self._stop.set()
        self._watcher.join(10)
        if self._proxy is not None:
            self._proxy.stop()


def cloud_settings(
    hetzner: FakeHetzner,
    planes: SharedHostPlanes,
    fly: FakeFly,
    runtime: FlyRuntime,
    cloudflare: FakeCloudflare,
) -> dict[str, Any]:
    return {
        "provider": "hetzner",
        "hetzner_api_token": HETZNER_TOKEN,
        "hetzner_api_endpoint": hetzner.url,
        "hetzner_action_poll_seconds": 0.01,
        "hetzner_plane_url": planes.plane_url_template,
        "hetzner_plane_boot_seconds": 60,
        "fly_api_token": FLY_TOKEN,
        "fly_api_base": fly.url,
        "fly_org": FLY_ORG,
        "fly_image": "registry.fly.io/webhost-dataplane:test",
        "fly_plane_url": runtime.plane_url,
        "fly_certificate_check_seconds": 0.05,
        "cloudflare_api_token": CLOUDFLARE_TOKEN,
        "cloudflare_zone_id": cloudflare.zone.id,
        "cloudflare_api_base": cloudflare.url,
        "base_domain": ZONE,
    }


@contextmanager
def running_cloud(
    server: PostgresURL, data_dir: Path, label: str, **overrides: Any
) -> Iterator[Cloud]:
    """Everything started, paid plans given to flyio; all stopped afterwards."""
    with ExitStack() as stack:
        hetzner = stack.enter_context(serve_fake_hetzner(HETZNER_TOKEN))
        cloudflare = stack.enter_context(
            serve_fake_cloudflare(token=CLOUDFLARE_TOKEN, zone_name=ZONE)
        )
        planes = SharedHostPlanes(hetzner, server, cloudflare).start()
        stack.callback(planes.stop)
        fly = stack.enter_context(
            serve_fake_fly(token=FLY_TOKEN, org_slug=FLY_ORG, start_delay=0.3)
        )
        runtime = FlyRuntime(fly, free_port()).start()
        stack.callback(runtime.stop)
        fly.acme_dns = cloudflare.cname_targets
        settings = cloud_settings(hetzner, planes, fly, runtime, cloudflare) | overrides
        platform = start_platform(server, data_dir, label, **settings)
        stack.callback(platform.stop)
        with operator_client(platform) as operator:
            for slug in DEDICATED_PLANS:
                given = operator.patch(f"/api/plans/{slug}", json={"provider": "flyio"})
                assert given.status_code == 200, given.text
        cloud = Cloud(platform, hetzner, planes, fly, runtime, cloudflare)
        try:
            yield cloud
        finally:
            for proxy in cloud.proxies:
                proxy.stop()

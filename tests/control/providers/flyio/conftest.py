from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.control.providers.cloudflare.dns_client import TOKEN as CLOUDFLARE_TOKEN
from tests.control.providers.cloudflare.dns_client import ZONE
from tests.control.providers.flyio.helpers import ORG, TOKEN
from tests.control.providers.flyio.platforms import start_fly_platform
from tests.support.fakes.cloudflare import FakeCloudflare, serve_fake_cloudflare
from tests.support.fakes.flyio import FakeFly, serve_fake_fly
from tests.support.fly_runtime import FlyRuntime
from tests.support.platform import PlatformThread
from tests.support.servers import free_port
from webhost.db.urls import PostgresURL


@pytest.fixture
def fake_fly() -> Iterator[FakeFly]:
    with serve_fake_fly(token=TOKEN, org_slug=ORG, start_delay=0.3) as fake:
        yield fake


@pytest.fixture
def fake_cloudflare() -> Iterator[FakeCloudflare]:
    with serve_fake_cloudflare(token=CLOUDFLARE_TOKEN, zone_name=ZONE) as served:
        yield served


@pytest.fixture
def runtime(fake_fly: FakeFly) -> Iterator[FlyRuntime]:
    """What Fly.io would run on the first app's primary machine (its plane, for real)."""
    running = FlyRuntime(fake_fly, free_port()).start()
    yield running
    running.stop()


@pytest.fixture
def fly_platform(
    postgres_server: PostgresURL,
    tmp_path: Path,
    fake_fly: FakeFly,
    fake_cloudflare: FakeCloudflare,
    runtime: FlyRuntime,
) -> Iterator[PlatformThread]:
    """A platform whose dedicated plans are Fly apps, their primary's plane run by ``runtime``."""
    running = start_fly_platform(
        postgres_server,
        tmp_path / "data",
        fake_fly,
        fake_cloudflare,
        "flyplatform",
        fly_plane_url=runtime.plane_url,
    )
    yield running
    running.stop()

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.control.providers.cloudflare.dns_client import TOKEN as CLOUDFLARE_TOKEN
from tests.control.providers.cloudflare.dns_client import ZONE
from tests.control.providers.flyio.helpers import ORG, TOKEN
from tests.support.fakes.cloudflare import FakeCloudflare, serve_fake_cloudflare
from tests.support.fakes.flyio import FakeFly, serve_fake_fly
from tests.support.fly_runtime import FlyRuntime
from tests.support.servers import free_port


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

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from tests.support.fakes.cloudflare import FakeCloudflare, serve_fake_cloudflare
from tests.support.fakes.hetzner import FakeHetzner, serve_fake_hetzner
from tests.support.shared_hosts import SharedHostPlanes
from webhost.control.providers.hetzner.cloud import HetznerCloud
from webhost.control.providers.retries import RetryPolicy
from webhost.db.urls import PostgresURL

# a token that looks like Hetzner's (64 characters), so a leak into a message is easy to see
TOKEN = secrets.token_hex(32)
CLOUDFLARE_TOKEN = "cf-token-Hq2v8KmX3tLw9PdR"
BASE_DOMAIN = "example.com"
FAST_RETRIES = RetryPolicy(attempts=4, first_delay=0.01, max_delay=0.05, max_total_wait=30)


@pytest.fixture(scope="session")
def served_hetzner() -> Iterator[FakeHetzner]:
    with serve_fake_hetzner(TOKEN) as fake:
        yield fake


@pytest.fixture
def hetzner(served_hetzner: FakeHetzner) -> FakeHetzner:
    served_hetzner.reset()
    return served_hetzner


def cloud_for(fake: FakeHetzner, *, token: str = TOKEN, **options: object) -> HetznerCloud:
    settings: dict[str, object] = {
        "location": "fsn1",
        "server_type": "cx22",
        "image": "debian-12",
        "retry": FAST_RETRIES,
        "action_poll_seconds": 0.01,
        "request_timeout_seconds": 10.0,
    }
    settings.update(options)
    return HetznerCloud(token, api_endpoint=fake.url, **settings)  # type: ignore[arg-type]


@pytest.fixture
def cloud(hetzner: FakeHetzner) -> HetznerCloud:
    return cloud_for(hetzner)


@pytest.fixture
def cloudflare() -> Iterator[FakeCloudflare]:
    with serve_fake_cloudflare(token=CLOUDFLARE_TOKEN, zone_name=BASE_DOMAIN) as served:
        yield served


@pytest.fixture
def host_planes(
    hetzner: FakeHetzner, postgres_server: PostgresURL, cloudflare: FakeCloudflare
) -> Iterator[SharedHostPlanes]:
    planes = SharedHostPlanes(hetzner, postgres_server, cloudflare).start()
    yield planes
    planes.stop()

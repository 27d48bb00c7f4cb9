from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.control.providers.cloudflare.dns_client import TOKEN, ZONE
from tests.support.fakes.cloudflare import FakeCloudflare, serve_fake_cloudflare


@pytest.fixture
def fake() -> Iterator[FakeCloudflare]:
    with serve_fake_cloudflare(token=TOKEN, zone_name=ZONE) as served:
        yield served

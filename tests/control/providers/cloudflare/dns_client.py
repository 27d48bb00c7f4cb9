"""Our Cloudflare DNS client pointed at the fake, with retries fast enough for tests."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from tests.support.fakes.cloudflare import FakeCloudflare
from webhost.control.providers.cloudflare.dns import CloudflareDns
from webhost.control.providers.retries import RetryPolicy

T = TypeVar("T")

TOKEN = "cf-token-Zq8v1KmX3tLw9PdR"
ZONE = "example.com"
FAST_RETRIES = RetryPolicy(attempts=3, first_delay=0.01, max_delay=0.04, max_total_wait=10)
RECORDS = "/zones/*/dns_records"
RECORD = "/zones/*/dns_records/*"
BATCH = "/zones/*/dns_records/batch"


def cloudflare_dns(fake: FakeCloudflare, **options: Any) -> CloudflareDns:
    token = options.pop("token", TOKEN)
    base_domain = options.pop("base_domain", ZONE)
    options.setdefault("retry", FAST_RETRIES)
    return CloudflareDns(token, fake.zone.id, base_domain, api_base=fake.url, **options)


def with_dns(
    fake: FakeCloudflare, scenario: Callable[[CloudflareDns], Awaitable[T]], **options: Any
) -> T:
    """Run ``scenario`` with a client of its own, closed afterwards, like a provisioning step."""

    async def main() -> T:
        async with cloudflare_dns(fake, **options) as dns:
            return await scenario(dns)

    return asyncio.run(main())


def new_deployment_id() -> uuid.UUID:
    return uuid.uuid4()


def statuses(fake: FakeCloudflare, method: str, path: str) -> list[int]:
    return [request.status for request in fake.requests(method, path)]

"""Our Fly.io client against the fake: a client per scenario, and small factories."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from tests.support.fakes.flyio import FakeFly
from webhost.control.providers.flyio.machine_config import MachineConfig
from webhost.control.providers.flyio.machines import FlyMachinesApi
from webhost.control.providers.retries import RetryPolicy

T = TypeVar("T")

TOKEN = "fo1_fake-fly-token-3f9c2a7d0b1e4c58"
ORG = "webhost-ops"
# short waits keep retry tests quick; the budget still bounds a persistent failure
FAST_RETRIES = RetryPolicy(attempts=4, first_delay=0.01, max_delay=0.05, max_total_wait=10.0)


def fly_api(
    fake: FakeFly, *, token: str = TOKEN, retry: RetryPolicy = FAST_RETRIES
) -> FlyMachinesApi:
    return FlyMachinesApi(token, ORG, api_base=fake.url, retry=retry)


def run(fake: FakeFly, scenario: Callable[[FlyMachinesApi], Awaitable[T]], **options: Any) -> T:
    """Drive our client (a fresh one, closed afterwards) against the fake."""

    async def main() -> T:
        async with fly_api(fake, **options) as fly:
            return await scenario(fly)

    return asyncio.run(main())


def app_name() -> str:
    """A deployment's app name: wh- and 16 hex digits of its id."""
    return f"wh-{secrets.token_hex(8)}"


def plane_config(volume_id: str, **overrides: Any) -> MachineConfig:
    values: dict[str, Any] = {
        "image": "registry.fly.io/webhost-dataplane:1.4.2",
        "volume_id": volume_id,
        "env": {"WEBHOST_TENANT": "t_0123456789abcdef", "WEBHOST_PORT": "8080"},
        "metadata": {"webhost_deployment": "0123456789abcdef"},
    }
    return MachineConfig(**(values | overrides))

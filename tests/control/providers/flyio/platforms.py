"""A platform whose dedicated plans are made on the fake Fly.io (the ``flyio`` provider)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.control.providers.cloudflare.dns_client import TOKEN as CLOUDFLARE_TOKEN
from tests.control.providers.cloudflare.dns_client import ZONE
from tests.control.providers.flyio.helpers import ORG, TOKEN
from tests.support.fakes.cloudflare import FakeCloudflare
from tests.support.fakes.flyio import FakeFly
from tests.support.platform import PlatformThread, start_platform
from webhost.db.urls import PostgresURL


def start_fly_platform(
    server: PostgresURL,
    data_dir: Path,
    fake: FakeFly,
    cloudflare: FakeCloudflare,
    label: str,
    **overrides: Any,
) -> PlatformThread:
    values: dict[str, Any] = {
        "cloudflare_api_token": CLOUDFLARE_TOKEN,
        "cloudflare_zone_id": cloudflare.zone.id,
        "cloudflare_api_base": cloudflare.url,
        "base_domain": ZONE,
        "provider": "flyio",
        "fly_api_token": TOKEN,
        "fly_api_base": fake.url,
        "fly_org": ORG,
        "fly_image": "registry.fly.io/webhost-dataplane:test",
        "fly_certificate_check_seconds": 0.05,
    }
    # Fly's DNS-01 validation looks the challenge records up in the fake zone
    fake.acme_dns = cloudflare.cname_targets
    return start_platform(server, data_dir, label, **(values | overrides))


def app_of(deployment_id: str) -> str:
    return "wh-" + deployment_id.replace("-", "")[:16]

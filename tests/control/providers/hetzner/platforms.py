"""Platforms on the hetzner provider: the fake Hetzner Cloud and Cloudflare, real data planes."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from tests.control.providers.hetzner.conftest import BASE_DOMAIN, CLOUDFLARE_TOKEN, TOKEN
from tests.support.fakes.cloudflare import FakeCloudflare
from tests.support.fakes.hetzner import FakeHetzner
from tests.support.inspect import query
from tests.support.platform import PlatformThread, start_platform
from tests.support.shared_hosts import SharedHostPlanes
from webhost.control.providers.hetzner.provider import HetznerProvider
from webhost.db.urls import PostgresURL
from webhost.runtime import Components


def start_hetzner_platform(
    server: PostgresURL,
    data_dir: Path,
    *,
    hetzner: FakeHetzner,
    cloudflare: FakeCloudflare,
    planes: SharedHostPlanes,
    components: Components | None = None,
    **overrides: Any,
) -> PlatformThread:
    settings: dict[str, Any] = {
        "provider": "hetzner",
        "hetzner_api_token": TOKEN,
        "hetzner_api_endpoint": hetzner.url,
        "hetzner_action_poll_seconds": 0.01,
        "hetzner_plane_url": planes.plane_url_template,
        "hetzner_plane_boot_seconds": 60,
        "cloudflare_api_token": CLOUDFLARE_TOKEN,
        "cloudflare_zone_id": cloudflare.zone.id,
        "cloudflare_api_base": cloudflare.url,
        "base_domain": BASE_DOMAIN,
    }
    settings.update(overrides)
    return start_platform(server, data_dir, "hetzner", components=components, **settings)


def provider_of(platform: PlatformThread) -> HetznerProvider:
    assert platform.runtime is not None
    assert platform.runtime.platform is not None
    provider = platform.runtime.platform.providers.get("hetzner")
    assert isinstance(provider, HetznerProvider)
    return provider


def slug_of(deployment_id: str) -> str:
    return deployment_id.replace("-", "")[:16]


def placements(platform: PlatformThread) -> dict[str, str]:
    """Deployment id -> host id."""
    rows = query(
        platform.control_database, "SELECT deployment_id, host_id FROM shared_host_placements"
    )
    return {str(deployment): host for deployment, host in rows}


def hosts(platform: PlatformThread) -> list[tuple[Any, ...]]:
    return query(
        platform.control_database,
        "SELECT id, status::text, capacity, server_id, address FROM shared_hosts "
        "ORDER BY created_at",
    )


def run_of(platform: PlatformThread, deployment_id: str) -> uuid.UUID:
    [(run_id,)] = query(
        platform.control_database,
        "SELECT id FROM workflow_runs WHERE deployment_id = $1 AND status = 'running'",
        uuid.UUID(deployment_id),
    )
    assert isinstance(run_id, uuid.UUID)
    return run_id


def cloud_counts(hetzner: FakeHetzner) -> tuple[int, int, int]:
    """Servers, volumes and firewalls in the fake project."""
    with hetzner.lock:
        project = hetzner.project
        return len(project.servers), len(project.volumes), len(project.firewalls)

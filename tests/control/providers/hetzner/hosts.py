"""Factories for the Hetzner tests: a host's labels, firewall, volume and server."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

from webhost.control.providers.hetzner.cloud import HetznerCloud
from webhost.control.providers.hetzner.firewalls import shared_host_rules
from webhost.control.providers.hetzner.labels import host_labels
from webhost.control.providers.hetzner.resources import (
    CloudFirewall,
    CloudServer,
    CloudVolume,
    FirewallRule,
)

T = TypeVar("T")

USER_DATA = '#cloud-config\npackages:\n  - "docker.io"\n'


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def new_host_id() -> str:
    return f"shared-{secrets.token_hex(4)}"


def host_rules(management_port: int = 9100) -> list[FirewallRule]:
    return shared_host_rules(
        operator_addresses=["203.0.113.7"],
        control_plane_addresses=["198.51.100.0/24"],
        management_port=management_port,
    )


async def make_firewall(
    cloud: HetznerCloud, host_id: str, rules: Sequence[FirewallRule] | None = None
) -> CloudFirewall:
    rules = host_rules() if rules is None else rules
    return await cloud.ensure_firewall(f"fw-{host_id}", rules, host_labels(host_id))


async def make_volume(cloud: HetznerCloud, host_id: str, size_gb: int = 20) -> CloudVolume:
    return await cloud.ensure_volume(f"data-{host_id}", size_gb, host_labels(host_id))


async def make_server(cloud: HetznerCloud, host_id: str, user_data: str = USER_DATA) -> CloudServer:
    firewall = await make_firewall(cloud, host_id)
    volume = await make_volume(cloud, host_id)
    return await cloud.ensure_server(host_id, host_labels(host_id), user_data, firewall, volume)

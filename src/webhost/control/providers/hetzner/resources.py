"""The values the Hetzner client returns, read from hcloud's objects.

They are read inside the worker thread: hcloud's bound objects fetch missing attributes over
the network when touched, which must never happen on the event loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar, cast

from hcloud.actions import BoundAction
from hcloud.firewalls import BoundFirewall
from hcloud.firewalls import FirewallRule as HcloudFirewallRule
from hcloud.servers import BoundServer
from hcloud.volumes import BoundVolume

from webhost.errors import ProvisioningError

Protocol = Literal["tcp", "udp", "icmp"]
Found = TypeVar("Found", BoundFirewall, BoundVolume, BoundServer)


@dataclass(frozen=True)
class FirewallRule:
    """Inbound traffic allowed: ``port`` (a number or ``"from-to"``; none for ICMP) from
    ``sources`` (networks in CIDR notation)."""

    protocol: Protocol
    port: str | None
    sources: tuple[str, ...]
    description: str | None = None


@dataclass(frozen=True)
class CloudFirewall:
    id: int
    name: str
    labels: dict[str, str]
    rules: tuple[FirewallRule, ...]
    server_ids: tuple[int, ...]


@dataclass(frozen=True)
class CloudVolume:
    id: int
    name: str
    size_gb: int
    location: str
    linux_device: str
    server_id: int | None
    labels: dict[str, str]


@dataclass(frozen=True)
class CloudServer:
    id: int
    name: str
    status: str
    location: str
    ipv4: str | None
    labels: dict[str, str]
    volume_ids: tuple[int, ...]
    firewall_ids: tuple[int, ...]


@dataclass(frozen=True)
class ActionState:
    id: int
    command: str
    status: str
    error: str | None = None


def only_one(kind: str, host_id: str, found: Sequence[Found]) -> Found | None:
    """The host's one resource of a kind, or None; several are refused, not guessed between."""
    if len(found) > 1:
        names = ", ".join(sorted(item.name or str(item.id) for item in found))
        raise ProvisioningError(
            f"{len(found)} {kind}s carry the labels of host {host_id!r} ({names}); "
            "remove all but one"
        )
    return found[0] if found else None


def hcloud_rule(rule: FirewallRule) -> HcloudFirewallRule:
    return HcloudFirewallRule(
        direction=HcloudFirewallRule.DIRECTION_IN,
        protocol=rule.protocol,
        port=rule.port,
        source_ips=list(rule.sources),
        description=rule.description,
    )


def same_rules(current: Sequence[HcloudFirewallRule], wanted: Sequence[HcloudFirewallRule]) -> bool:
    """Whether two rule lists allow the same traffic (order of rules and networks aside)."""

    def key(rule: HcloudFirewallRule) -> str:
        sources, destinations = sorted(rule.source_ips), sorted(rule.destination_ips)
        return repr(
            (rule.direction, rule.protocol, rule.port, sources, destinations, rule.description)
        )

    return sorted(map(key, current)) == sorted(map(key, wanted))


def firewall_from(firewall: BoundFirewall) -> CloudFirewall:
    rules = tuple(
        FirewallRule(
            cast(Protocol, rule.protocol), rule.port, tuple(rule.source_ips), rule.description
        )
        for rule in firewall.rules or []
        if rule.direction == HcloudFirewallRule.DIRECTION_IN
    )
    servers = tuple(
        applied.server.id
        for applied in firewall.applied_to or []
        if applied.server is not None and applied.server.id is not None
    )
    return CloudFirewall(
        id=resource_id(firewall.id),
        name=firewall.name or "",
        labels=dict(firewall.labels or {}),
        rules=rules,
        server_ids=servers,
    )


def volume_from(volume: BoundVolume) -> CloudVolume:
    return CloudVolume(
        id=resource_id(volume.id),
        name=volume.name or "",
        size_gb=volume.size or 0,
        location=(volume.location.name if volume.location else None) or "",
        linux_device=volume.linux_device or "",
        server_id=volume.server.id if volume.server is not None else None,
        labels=dict(volume.labels or {}),
    )


def server_from(server: BoundServer) -> CloudServer:
    public = server.public_net
    firewalls = (public.firewalls if public is not None else None) or []
    return CloudServer(
        id=resource_id(server.id),
        name=server.name or "",
        status=server.status or "unknown",
        location=(server.location.name if server.location else None) or "",
        ipv4=public.ipv4.ip if public is not None and public.ipv4 is not None else None,
        labels=dict(server.labels or {}),
        volume_ids=tuple(resource_id(volume.id) for volume in server.volumes or []),
        firewall_ids=tuple(resource_id(applied.firewall.id) for applied in firewalls),
    )


def action_from(action: BoundAction) -> ActionState:
    error = action.error
    return ActionState(
        id=resource_id(action.id),
        command=action.command or "action",
        status=action.status or "running",
        error=f"{error.get('code')}: {error.get('message')}" if error else None,
    )


def resource_id(value: int | None) -> int:
    if value is None:
        raise ProvisioningError("Hetzner Cloud answered with a resource that has no id")
    return value

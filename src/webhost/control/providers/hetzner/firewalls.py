"""A shared host's firewall: what it allows, and making, updating and removing it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import partial

from hcloud.firewalls import BoundFirewall, FirewallResource
from hcloud.servers import Server

from webhost.control.providers.hetzner.labels import check_host_labels, host_selector
from webhost.control.providers.hetzner.resources import (
    ActionState,
    CloudFirewall,
    FirewallRule,
    action_from,
    firewall_from,
    hcloud_rule,
    only_one,
    resource_id,
    same_rules,
)
from webhost.control.providers.hetzner.transport import ProjectOperations, unless_gone
from webhost.control.providers.hetzner.validation import (
    check_name,
    check_networks,
    check_port_range,
    networks,
    shown,
)
from webhost.errors import ProvisioningError

ANYWHERE = ("0.0.0.0/0", "::/0")


def check_rule(rule: FirewallRule) -> None:
    if rule.protocol not in ("tcp", "udp", "icmp"):
        raise ProvisioningError(f"firewall protocol {shown(rule.protocol)} is not tcp, udp or icmp")
    if rule.protocol == "icmp":
        if rule.port is not None:
            raise ProvisioningError("an ICMP firewall rule has no port")
    else:
        check_port_range(rule.port)
    if not rule.sources:
        raise ProvisioningError(f"the firewall rule for port {rule.port} allows no sources")
    check_networks(rule.sources)
    if rule.description is not None and len(rule.description) > 255:
        raise ProvisioningError("a firewall rule's description has at most 255 characters")


def shared_host_rules(
    *,
    operator_addresses: Iterable[str],
    control_plane_addresses: Iterable[str],
    management_port: int,
) -> list[FirewallRule]:
    """SSH from the operator only, HTTP(S) from anywhere, the data plane's management port
    from the control plane only; Hetzner drops whatever no rule allows."""
    rules: list[FirewallRule] = []
    operators = networks(operator_addresses)
    if operators:
        rules.append(FirewallRule("tcp", "22", operators, "ssh from the operator"))
    rules.append(FirewallRule("tcp", "80", ANYWHERE, "http"))
    rules.append(FirewallRule("tcp", "443", ANYWHERE, "https"))
    control_plane = networks(control_plane_addresses)
    if control_plane:
        port = str(management_port)
        rules.append(FirewallRule("tcp", port, control_plane, "management from the control plane"))
    for rule in rules:
        check_rule(rule)
    return rules


class FirewallOperations(ProjectOperations):
    async def ensure_firewall(
        self, name: str, rules: Sequence[FirewallRule], labels: Mapping[str, str]
    ) -> CloudFirewall:
        """The host's firewall, allowing exactly ``rules`` (replaced when they differ)."""
        check_name("firewall", name)
        host_id = check_host_labels(labels)
        for rule in rules:
            check_rule(rule)
        wanted = [hcloud_rule(rule) for rule in rules]
        firewalls = self._hcloud.firewalls

        def find_or_create() -> tuple[CloudFirewall, list[ActionState]]:
            selector = host_selector(host_id)
            found = only_one("firewall", host_id, firewalls.get_all(label_selector=selector))
            if found is None:
                created = firewalls.create(name=name, rules=wanted, labels=dict(labels))  # type: ignore[arg-type]
                actions = [action_from(action) for action in created.actions or []]
                return firewall_from(created.firewall), actions
            if found.name != name or found.labels != dict(labels):
                firewalls.update(found, name=name, labels=dict(labels))
            actions = []
            if not same_rules(found.rules or [], wanted):
                actions = [action_from(action) for action in firewalls.set_rules(found, wanted)]
            return firewall_from(firewalls.get_by_id(resource_id(found.id))), actions

        firewall, actions = await self._calls.run(f"ensuring firewall {name!r}", find_or_create)
        await self._calls.wait(actions, f"setting up firewall {name!r}")
        return firewall

    async def delete_firewall(self, host_id: str) -> None:
        """Take the host's firewall off its servers, then delete it."""
        selector = host_selector(host_id)
        firewalls = self._hcloud.firewalls

        def take_off() -> tuple[list[BoundFirewall], list[ActionState]]:
            found = firewalls.get_all(label_selector=selector)
            actions: list[ActionState] = []
            for firewall in found:
                applied = [
                    FirewallResource(type="server", server=Server(id=server_id))
                    for server_id in firewall_from(firewall).server_ids
                ]
                if applied:
                    removed = unless_gone(
                        partial(firewalls.remove_from_resources, firewall, applied)
                    )
                    actions.extend(action_from(action) for action in removed or [])
            return found, actions

        what = f"taking the firewall of host {host_id!r} off its servers"
        found, actions = await self._calls.run(what, take_off)
        await self._calls.wait(actions, what)

        def delete() -> None:
            for firewall in found:
                unless_gone(partial(firewalls.delete, firewall))

        await self._calls.run(f"deleting the firewall of host {host_id!r}", delete)

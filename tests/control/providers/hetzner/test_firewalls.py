from __future__ import annotations

import pytest

from tests.control.providers.hetzner.hosts import (
    host_rules,
    make_firewall,
    make_server,
    new_host_id,
    run,
)
from tests.support.fakes.hetzner import FakeHetzner
from webhost.control.providers.hetzner.cloud import HetznerCloud
from webhost.control.providers.hetzner.firewalls import shared_host_rules
from webhost.control.providers.hetzner.labels import host_labels
from webhost.control.providers.hetzner.resources import FirewallRule
from webhost.errors import ProvisioningError


def test_a_firewall_is_created_with_the_hosts_labels_and_rules(
    hetzner: FakeHetzner, cloud: HetznerCloud
) -> None:
    host = new_host_id()

    firewall = run(make_firewall(cloud, host))

    stored = hetzner.project.firewalls[firewall.id]
    assert stored["name"] == f"fw-{host}"
    assert stored["labels"] == {"webhost.host": host, "webhost.managed": "true"}
    allowed = {(rule["port"], tuple(rule["source_ips"])) for rule in stored["rules"]}
    assert allowed == {
        ("22", ("203.0.113.7/32",)),
        ("80", ("0.0.0.0/0", "::/0")),
        ("443", ("0.0.0.0/0", "::/0")),
        ("9100", ("198.51.100.0/24",)),
    }
    assert firewall.rules == tuple(host_rules())


def test_a_repeated_ensure_finds_the_firewall_instead_of_making_another(
    hetzner: FakeHetzner, cloud: HetznerCloud
) -> None:
    host = new_host_id()
    first = run(make_firewall(cloud, host))

    again = run(make_firewall(cloud, host))

    assert again == first
    assert len(hetzner.project.firewalls) == 1
    assert len(hetzner.requests_to("POST", "/v1/firewalls")) == 1
    assert hetzner.requests_to("POST", "/v1/firewalls/*/actions/set_rules") == []


def test_changed_rules_replace_the_old_ones_on_the_same_firewall(
    hetzner: FakeHetzner, cloud: HetznerCloud
) -> None:
    host = new_host_id()
    first = run(make_firewall(cloud, host))

    moved = run(make_firewall(cloud, host, host_rules(management_port=9200)))

    assert moved.id == first.id
    ports = {rule["port"] for rule in hetzner.project.firewalls[first.id]["rules"]}
    assert ports == {"22", "80", "443", "9200"}
    assert len(hetzner.requests_to("POST", f"/v1/firewalls/{first.id}/actions/set_rules")) == 1


def test_a_renamed_firewall_keeps_its_id(hetzner: FakeHetzner, cloud: HetznerCloud) -> None:
    host = new_host_id()
    first = run(make_firewall(cloud, host))

    renamed = run(cloud.ensure_firewall(f"edge-{host}", host_rules(), host_labels(host)))

    assert renamed.id == first.id
    assert hetzner.project.firewalls[first.id]["name"] == f"edge-{host}"


def test_delete_takes_the_firewall_off_its_server_and_a_second_delete_finds_it_gone(
    hetzner: FakeHetzner, cloud: HetznerCloud
) -> None:
    host = new_host_id()
    server = run(make_server(cloud, host))
    assert hetzner.project.servers[server.id]["public_net"]["firewalls"]

    run(cloud.delete_firewall(host))
    run(cloud.delete_firewall(host))

    assert hetzner.project.firewalls == {}
    assert hetzner.project.servers[server.id]["public_net"]["firewalls"] == []
    assert len(hetzner.requests_to("POST", "/v1/firewalls/*/actions/remove_from_resources")) == 1


def test_a_name_taken_by_a_resource_of_someone_else_is_a_clear_error(
    hetzner: FakeHetzner, cloud: HetznerCloud
) -> None:
    other, host = new_host_id(), new_host_id()
    run(cloud.ensure_firewall("shared-edge", host_rules(), host_labels(other)))

    with pytest.raises(ProvisioningError) as refused:
        run(cloud.ensure_firewall("shared-edge", host_rules(), host_labels(host)))

    assert "refused ensuring firewall 'shared-edge'" in refused.value.message
    assert "uniqueness_error" in refused.value.message


def test_shared_host_rules_keep_ssh_and_management_to_their_networks() -> None:
    rules = shared_host_rules(
        operator_addresses=["2001:db8::7", "192.0.2.0/28"],
        control_plane_addresses=["198.51.100.10"],
        management_port=8101,
    )

    by_port = {rule.port: rule.sources for rule in rules}
    assert by_port == {
        "22": ("2001:db8::7/128", "192.0.2.0/28"),
        "80": ("0.0.0.0/0", "::/0"),
        "443": ("0.0.0.0/0", "::/0"),
        "8101": ("198.51.100.10/32",),
    }
    assert {rule.protocol for rule in rules} == {"tcp"}


def test_shared_host_rules_without_operators_open_no_ssh() -> None:
    rules = shared_host_rules(
        operator_addresses=[], control_plane_addresses=["198.51.100.10"], management_port=8101
    )

    assert "22" not in {rule.port for rule in rules}


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        (FirewallRule("tcp", "0", ("0.0.0.0/0",)), "is not a port"),
        (FirewallRule("tcp", "90-80", ("0.0.0.0/0",)), "is not a port"),
        (FirewallRule("udp", None, ("0.0.0.0/0",)), "is not a port"),
        (FirewallRule("icmp", "1", ("0.0.0.0/0",)), "has no port"),
        (FirewallRule("tcp", "22", ()), "allows no sources"),
        (FirewallRule("tcp", "22", ("10.0.0.1/8",)), "not a network in CIDR notation"),
        (FirewallRule("sctp", "22", ("10.0.0.0/8",)), "is not tcp, udp or icmp"),  # type: ignore[arg-type]
    ],
)
def test_a_rule_hetzner_would_refuse_is_refused_before_any_call(
    hetzner: FakeHetzner, cloud: HetznerCloud, rule: FirewallRule, problem: str
) -> None:
    with pytest.raises(ProvisioningError, match=problem):
        run(cloud.ensure_firewall("fw-bad", [rule], host_labels(new_host_id())))

    assert hetzner.requests == []


def test_operator_addresses_that_are_not_addresses_are_refused() -> None:
    with pytest.raises(ProvisioningError, match="'my laptop' is not an IP address"):
        shared_host_rules(
            operator_addresses=["my laptop"], control_plane_addresses=[], management_port=1
        )

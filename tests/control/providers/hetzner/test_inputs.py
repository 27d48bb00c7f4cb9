"""Generated input: whatever the client passes on, Hetzner accepts; the rest is refused first.

The fake applies Hetzner's documented rules on its own, so each example holds the client's
checks to them: an input refused locally never reaches the API, and one the client lets
through is stored as given.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.control.providers.hetzner.hosts import new_host_id, run
from tests.support.bad_input import OVER_HTTP
from tests.support.fakes.hetzner import FakeHetzner
from webhost.control.providers.hetzner.cloud import HetznerCloud
from webhost.control.providers.hetzner.labels import HOST_LABEL, MANAGED_LABEL, host_labels
from webhost.control.providers.hetzner.resources import FirewallRule
from webhost.errors import ProvisioningError

T = TypeVar("T")

_NEAR_VALID = "abcxyzABC0189-_./ é:"
near_valid_text = st.text(alphabet=_NEAR_VALID, max_size=70)
any_text = st.text(max_size=70)
names = st.one_of(
    near_valid_text,
    any_text,
    st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", fullmatch=True),
)
label_part = st.from_regex(r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,20}[A-Za-z0-9])?", fullmatch=True)
label_keys = st.one_of(
    label_part,
    st.tuples(
        st.from_regex(r"[a-z0-9]{1,8}(?:\.[a-z0-9]{1,8}){0,2}", fullmatch=True), label_part
    ).map("/".join),
    near_valid_text,
    any_text,
)
label_values = st.one_of(label_part, st.just(""), near_valid_text)
label_dicts = st.dictionaries(label_keys, label_values, min_size=1, max_size=3)
ports = st.one_of(
    st.integers(1, 65_535).map(str),
    st.none(),
    st.integers(-1, 70_000).map(str),
    st.tuples(st.integers(0, 66_000), st.integers(0, 66_000)).map(lambda r: f"{r[0]}-{r[1]}"),
    st.text(alphabet="0123456789-a ", max_size=8),
)
sources = st.one_of(
    st.ip_addresses().map(lambda address: f"{address}/{address.max_prefixlen}"),
    st.ip_addresses().map(str),
    st.tuples(st.ip_addresses(v=4), st.integers(0, 33)).map(lambda n: f"{n[0]}/{n[1]}"),
    st.tuples(st.ip_addresses(v=6), st.integers(0, 129)).map(lambda n: f"{n[0]}/{n[1]}"),
    st.text(max_size=12),
)
rules = st.builds(
    FirewallRule,
    protocol=st.sampled_from(["tcp", "udp", "icmp"]),
    port=ports,
    sources=st.lists(sources, min_size=1, max_size=3).map(tuple),
    description=st.one_of(st.none(), st.text(alphabet="abc -", max_size=20)),
)


# both outcomes need enough examples: most generated labels and rules are refused
MORE_OVER_HTTP = settings(OVER_HTTP, max_examples=60)


def attempt(coroutine: Coroutine[Any, Any, T]) -> T | ProvisioningError:
    """The result, or the refusal (so a test can tell the two outcomes apart)."""
    try:
        return run(coroutine)
    except ProvisioningError as refused:
        return refused


def _requests(fake: FakeHetzner) -> int:
    with fake.lock:
        return len(fake.requests)


@OVER_HTTP
@given(name=names)
def test_a_volume_name_is_refused_first_or_stored_as_given(
    hetzner: FakeHetzner, cloud: HetznerCloud, name: str
) -> None:
    hetzner.reset()
    volume = attempt(cloud.ensure_volume(name, 10, host_labels(new_host_id())))
    if isinstance(volume, ProvisioningError):
        assert volume.message.startswith("volume name")
        assert _requests(hetzner) == 0
    else:
        assert hetzner.project.volumes[volume.id]["name"] == name


@MORE_OVER_HTTP
@given(extra=label_dicts)
def test_labels_are_refused_first_or_stored_as_given(
    hetzner: FakeHetzner, cloud: HetznerCloud, extra: dict[str, str]
) -> None:
    hetzner.reset()
    labels = {**extra, HOST_LABEL: new_host_id(), MANAGED_LABEL: "true"}
    firewall = attempt(cloud.ensure_firewall("edge", [], labels))
    if isinstance(firewall, ProvisioningError):
        assert firewall.message.startswith("label")
        assert _requests(hetzner) == 0
    else:
        assert hetzner.project.firewalls[firewall.id]["labels"] == labels


@MORE_OVER_HTTP
@given(rule=rules)
def test_firewall_rules_are_refused_first_or_stored_as_given(
    hetzner: FakeHetzner, cloud: HetznerCloud, rule: FirewallRule
) -> None:
    hetzner.reset()
    firewall = attempt(cloud.ensure_firewall("edge", [rule], host_labels(new_host_id())))
    if isinstance(firewall, ProvisioningError):
        assert "firewall" in firewall.message
        assert _requests(hetzner) == 0
    else:
        (stored,) = hetzner.project.firewalls[firewall.id]["rules"]
        assert (stored["protocol"], stored["port"]) == (rule.protocol, rule.port)
        assert tuple(stored["source_ips"]) == rule.sources


@OVER_HTTP
@given(host_id=st.one_of(near_valid_text, any_text))
def test_a_host_id_never_changes_the_label_selector_it_is_put_in(
    hetzner: FakeHetzner, cloud: HetznerCloud, host_id: str
) -> None:
    hetzner.reset()
    deleted = attempt(cloud.delete_server(host_id))
    if isinstance(deleted, ProvisioningError):
        assert "host id" in deleted.message or deleted.message.startswith("label")
        assert _requests(hetzner) == 0
    else:
        (listed,) = hetzner.requests_to("GET", "/v1/servers")
        assert listed.query["label_selector"] == [f"webhost.managed==true,webhost.host=={host_id}"]


@OVER_HTTP
@given(size=st.integers(-10, 20_000))
def test_a_volume_size_is_refused_first_or_made(
    hetzner: FakeHetzner, cloud: HetznerCloud, size: int
) -> None:
    hetzner.reset()
    volume = attempt(cloud.ensure_volume("data", size, host_labels(new_host_id())))
    if isinstance(volume, ProvisioningError):
        assert "volume of" in volume.message
        assert _requests(hetzner) == 0
    else:
        assert volume.size_gb == size

"""Slugs, hostnames and targets Cloudflare would refuse are refused before anything is sent."""

from __future__ import annotations

import asyncio
import ipaddress
import string
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.control.providers.cloudflare.dns_client import (
    TOKEN,
    ZONE,
    cloudflare_dns,
    new_deployment_id,
    with_dns,
)
from tests.support.bad_input import OVER_HTTP
from tests.support.fakes.cloudflare import FakeCloudflare
from webhost.control.providers.cloudflare.dns import CloudflareDns
from webhost.errors import ConfigurationError, ProvisioningError

LETTERS_DIGITS = string.ascii_lowercase + string.digits
OWNER = new_deployment_id()


@st.composite
def dns_labels(draw: st.DrawFn) -> str:
    """1 to 63 of a-z, 0-9 and '-', starting and ending with a letter or digit, no 'ab--'."""
    first = draw(st.sampled_from(LETTERS_DIGITS))
    middle = draw(st.text(alphabet=LETTERS_DIGITS + "-", max_size=61))
    last = draw(st.sampled_from(LETTERS_DIGITS)) if middle or draw(st.booleans()) else ""
    label = first + middle + last
    return label if label[2:4] != "--" else label[:2] + "x" + label[3:]


def spoiled_labels(forbidden: str, *, reserved_dashes: bool) -> st.SearchStrategy[str]:
    """Labels broken by a character in ``forbidden``, a hyphen at an end, length, or emptiness."""
    inserted = st.tuples(dns_labels(), st.sampled_from(forbidden), st.integers(0, 63)).map(
        lambda parts: parts[0][: parts[2]] + parts[1] + parts[0][parts[2] :]
    )
    variants = [
        inserted,
        dns_labels().map(lambda label: "-" + label),
        dns_labels().map(lambda label: label + "-"),
        st.text(alphabet=LETTERS_DIGITS, min_size=64, max_size=90),
        st.just(""),
    ]
    if reserved_dashes:
        variants.append(dns_labels().map(lambda label: label[:2].ljust(2, "a") + "--" + label))
    return st.one_of(variants)


# hostnames may hold capitals and dots (case-folded, separators); the Kelvin sign folds to "k"
NOT_IN_SLUGS = "ABCXYZ._ /:@*\u00e9\n\t\u212a\x00"
NOT_IN_HOSTNAMES = "_ /:@*\u00e9\n\t\u212a\x00"
VALIDATION_ONLY = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def dns(fake: FakeCloudflare) -> Iterator[CloudflareDns]:
    client = cloudflare_dns(fake)
    yield client
    asyncio.run(client.aclose())


@VALIDATION_ONLY
@given(slug=dns_labels())
def test_every_dns_label_is_a_slug(dns: CloudflareDns, slug: str) -> None:
    assert dns.hostnames(slug) == (f"{slug}.api.{ZONE}", f"{slug}.sync.{ZONE}")


@VALIDATION_ONLY
@given(slug=spoiled_labels(NOT_IN_SLUGS, reserved_dashes=True))
def test_a_slug_that_is_no_dns_label_is_refused(dns: CloudflareDns, slug: str) -> None:
    with pytest.raises(ProvisioningError) as refused:
        dns.hostnames(slug)
    assert repr(slug) in refused.value.message


def not_an_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return True
    return False


def bad_targets() -> st.SearchStrategy[str]:
    with_foreign_characters = st.text(min_size=1, max_size=40).filter(
        lambda text: (
            any(c not in string.ascii_letters + string.digits + ".-" for c in text)
            and not_an_address(text)
        )
    )
    hostnames = st.lists(dns_labels(), min_size=2, max_size=4).map(".".join)
    return st.one_of(
        with_foreign_characters,
        st.tuples(hostnames, spoiled_labels(NOT_IN_HOSTNAMES, reserved_dashes=False)).map(
            lambda parts: f"{parts[1]}.{parts[0]}"
        ),
        dns_labels(),  # one label: no public name
        st.lists(dns_labels(), min_size=2, max_size=3).map("..".join),
        st.lists(st.just("a" * 63), min_size=4, max_size=5).map(".".join),  # past 253
        st.sampled_from(["0.0.0.0", "::", "224.0.0.1", "ff02::1", "fe80::1%eth0"]),
    )


@VALIDATION_ONLY
@given(target=bad_targets())
def test_a_target_that_is_neither_address_nor_hostname_is_refused_before_calling(
    fake: FakeCloudflare, dns: CloudflareDns, target: str
) -> None:
    with pytest.raises(ProvisioningError) as refused:
        asyncio.run(dns.ensure_record(f"abc.api.{ZONE}", target, deployment_id=new_deployment_id()))

    assert "record target" in refused.value.message
    assert fake.requests() == []


@VALIDATION_ONLY
@given(
    name=st.one_of(
        dns_labels().map(lambda label: f"{label}.api.example.org"),
        dns_labels().map(lambda label: f"{label}{ZONE}"),  # ends like the zone, is not in it
        st.just(ZONE),
        st.just(f".{ZONE}"),
    )
)
def test_a_hostname_outside_the_base_domain_is_refused_before_calling(
    fake: FakeCloudflare, dns: CloudflareDns, name: str
) -> None:
    async def attempts() -> None:
        for operation in (
            dns.ensure_record(name, "203.0.113.5", deployment_id=new_deployment_id()),
            dns.records_of(name),
            dns.delete_record(name, deployment_id=new_deployment_id()),
        ):
            with pytest.raises(ProvisioningError):
                await operation

    asyncio.run(attempts())
    assert fake.requests() == []


def test_a_hostname_cannot_point_at_itself(fake: FakeCloudflare) -> None:
    with pytest.raises(ProvisioningError) as refused:
        with_dns(
            fake,
            lambda dns: dns.ensure_record(
                f"abc.api.{ZONE}", f"ABC.api.{ZONE}.", deployment_id=new_deployment_id()
            ),
        )
    assert "itself" in refused.value.message
    assert fake.requests() == []


@OVER_HTTP
@given(
    slug=dns_labels(),
    address=st.ip_addresses(v=4).filter(lambda a: not (a.is_multicast or a.is_unspecified)),
)
def test_generated_hostnames_and_addresses_end_in_one_record(
    fake: FakeCloudflare, slug: str, address: ipaddress.IPv4Address
) -> None:
    async def scenario(dns: CloudflareDns) -> list[tuple[str, str | None]]:
        api, _ = dns.hostnames(slug)
        await dns.ensure_record(api, str(address), deployment_id=OWNER)
        await dns.ensure_record(api, str(address), deployment_id=OWNER)
        return [(record.type, record.content) for record in await dns.records_of(api)]

    assert with_dns(fake, scenario) == [("A", str(address))]


@pytest.mark.parametrize(
    ("zone_id", "base_domain", "options"),
    [
        ("", ZONE, {}),
        ("0" * 31, ZONE, {}),
        ("A" * 32, ZONE, {}),
        ("0" * 32 + "\n", ZONE, {}),
        ("0" * 32, "", {}),
        ("0" * 32, "com", {}),
        ("0" * 32, "exa mple.com", {}),
        ("0" * 32, "-x.example.com", {}),
        ("0" * 32, ZONE, {"ttl": 0}),
        ("0" * 32, ZONE, {"ttl": 86_401}),
        ("0" * 32, ZONE, {"token": "  "}),
    ],
)
def test_settings_that_cannot_work_are_refused_at_construction(
    zone_id: str, base_domain: str, options: dict[str, object]
) -> None:
    token = str(options.pop("token", TOKEN))
    with pytest.raises(ConfigurationError) as refused:
        CloudflareDns(token, zone_id, base_domain, **options)  # type: ignore[arg-type]
    assert TOKEN not in refused.value.message

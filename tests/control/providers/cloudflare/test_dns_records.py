"""A deployment's hostnames are created, found again, switched between hosts and deleted."""

from __future__ import annotations

import pytest

from tests.control.providers.cloudflare.dns_client import (
    BATCH,
    RECORD,
    RECORDS,
    ZONE,
    new_deployment_id,
    statuses,
    with_dns,
)
from tests.support.fakes.cloudflare import FakeCloudflare, serve_fake_cloudflare
from webhost.control.providers.cloudflare.dns import CloudflareDns, DnsRecord
from webhost.errors import ProvisioningError

API = f"abc.api.{ZONE}"


def test_hostnames_are_the_slug_under_api_and_sync(fake: FakeCloudflare) -> None:
    async def scenario(dns: CloudflareDns) -> tuple[str, str]:
        return dns.hostnames("abc")

    assert with_dns(fake, scenario) == (f"abc.api.{ZONE}", f"abc.sync.{ZONE}")
    assert fake.requests() == []


@pytest.mark.parametrize(
    ("target", "record_type", "content"),
    [
        ("203.0.113.5", "A", "203.0.113.5"),
        ("2001:DB8:0:0::7", "AAAA", "2001:db8::7"),
        ("WH-abc.Fly.dev.", "CNAME", "wh-abc.fly.dev"),
    ],
)
def test_ensure_creates_the_record_its_target_calls_for(
    fake: FakeCloudflare, target: str, record_type: str, content: str
) -> None:
    deployment = new_deployment_id()

    record = with_dns(fake, lambda dns: dns.ensure_record(API, target, deployment_id=deployment))

    [stored] = fake.records(API)
    assert (stored["type"], stored["content"], stored["id"]) == (record_type, content, record.id)
    assert str(deployment) in stored["comment"]
    assert (stored["ttl"], stored["proxied"]) == (60, False)
    assert record.type == record_type
    assert record.content == content


def test_a_repeated_ensure_finds_the_record_instead_of_making_another(
    fake: FakeCloudflare,
) -> None:
    deployment = new_deployment_id()
    first = with_dns(
        fake, lambda dns: dns.ensure_record(API, "203.0.113.5", deployment_id=deployment)
    )
    # a second client, as after a worker restart: nothing is remembered but what Cloudflare has
    again = with_dns(
        fake, lambda dns: dns.ensure_record(API, "203.0.113.5", deployment_id=deployment)
    )

    assert again == first
    assert len(fake.records(API)) == 1
    assert statuses(fake, "POST", RECORDS) == [200]
    assert fake.requests("PUT") == []


def test_a_new_address_updates_the_record_in_place(fake: FakeCloudflare) -> None:
    deployment = new_deployment_id()
    first = with_dns(
        fake, lambda dns: dns.ensure_record(API, "203.0.113.5", deployment_id=deployment)
    )

    moved = with_dns(
        fake, lambda dns: dns.ensure_record(API, "203.0.113.9", deployment_id=deployment)
    )

    [stored] = fake.records(API)
    assert (stored["id"], stored["content"]) == (first.id, "203.0.113.9")
    assert moved.id == first.id
    assert statuses(fake, "PUT", RECORD) == [200]


def test_moving_between_a_shared_host_and_a_dedicated_app_switches_the_record_type(
    fake: FakeCloudflare,
) -> None:
    deployment = new_deployment_id()

    async def scenario(dns: CloudflareDns) -> list[list[DnsRecord]]:
        seen = []
        for target in ("203.0.113.5", "wh-abc.fly.dev", "203.0.113.5", "wh-abc.fly.dev"):
            await dns.ensure_record(API, target, deployment_id=deployment)
            seen.append(await dns.records_of(API))
        return seen

    seen = with_dns(fake, scenario)

    assert [[(r.type, r.content) for r in records] for records in seen] == [
        [("A", "203.0.113.5")],
        [("CNAME", "wh-abc.fly.dev")],
        [("A", "203.0.113.5")],
        [("CNAME", "wh-abc.fly.dev")],
    ]
    # each switch deleted and created in one batch, so the name was never without a record
    assert statuses(fake, "POST", BATCH) == [200, 200, 200]
    assert fake.requests("DELETE") == []


def test_a_failed_switch_leaves_the_old_record_and_can_be_repeated(fake: FakeCloudflare) -> None:
    deployment = new_deployment_id()
    old = with_dns(
        fake, lambda dns: dns.ensure_record(API, "203.0.113.5", deployment_id=deployment)
    )
    fake.fail_next("POST", BATCH, 500, times=3)

    with pytest.raises(ProvisioningError):
        with_dns(
            fake, lambda dns: dns.ensure_record(API, "wh-abc.fly.dev", deployment_id=deployment)
        )
    assert [(r["id"], r["type"]) for r in fake.records(API)] == [(old.id, "A")]

    switched = with_dns(
        fake, lambda dns: dns.ensure_record(API, "wh-abc.fly.dev", deployment_id=deployment)
    )
    assert [(r["id"], r["type"]) for r in fake.records(API)] == [(switched.id, "CNAME")]


def test_duplicates_left_by_earlier_attempts_are_removed(fake: FakeCloudflare) -> None:
    deployment = new_deployment_id()
    comment = f"webhost deployment {deployment}"
    fake.add_record(API, "A", "203.0.113.1", comment=comment, ttl=60)
    keep = fake.add_record(API, "A", "203.0.113.5", comment=comment, ttl=60)
    fake.add_record(API, "A", "203.0.113.2", comment=comment, ttl=60)

    record = with_dns(
        fake, lambda dns: dns.ensure_record(API, "203.0.113.5", deployment_id=deployment)
    )

    assert [(r["id"], r["content"]) for r in fake.records(API)] == [(keep, "203.0.113.5")]
    assert record.id == keep
    assert fake.requests("PUT") == []


def test_a_record_someone_else_made_is_refused_and_left_alone(fake: FakeCloudflare) -> None:
    theirs = fake.add_record(API, "CNAME", "elsewhere.example.net", comment="made by hand")
    other_deployment = fake.add_record(
        f"abc.sync.{ZONE}", "A", "198.51.100.7", comment=f"webhost deployment {new_deployment_id()}"
    )
    deployment = new_deployment_id()

    with pytest.raises(ProvisioningError) as refused:
        with_dns(fake, lambda dns: dns.ensure_record(API, "203.0.113.5", deployment_id=deployment))
    with pytest.raises(ProvisioningError):
        with_dns(
            fake,
            lambda dns: dns.ensure_record(
                f"abc.sync.{ZONE}", "wh-x.fly.dev", deployment_id=deployment
            ),
        )
    removed = with_dns(fake, lambda dns: dns.delete_record(API, deployment_id=deployment))

    assert API in refused.value.message
    assert "CNAME" in refused.value.message
    assert removed == 0
    assert sorted(r["id"] for r in fake.records()) == sorted([theirs, other_deployment])
    assert {r.method for r in fake.requests()} == {"GET"}


def test_records_of_other_types_on_the_name_stay(fake: FakeCloudflare) -> None:
    verification = fake.add_record(API, "TXT", "site-verification=abc")
    deployment = new_deployment_id()

    with_dns(fake, lambda dns: dns.ensure_record(API, "203.0.113.5", deployment_id=deployment))
    removed = with_dns(fake, lambda dns: dns.delete_record(API, deployment_id=deployment))

    assert removed == 1
    assert [r["id"] for r in fake.records(API)] == [verification]


def test_delete_removes_the_record_and_succeeds_when_it_is_gone(fake: FakeCloudflare) -> None:
    deployment = new_deployment_id()
    with_dns(fake, lambda dns: dns.ensure_record(API, "wh-abc.fly.dev", deployment_id=deployment))

    first = with_dns(fake, lambda dns: dns.delete_record(API, deployment_id=deployment))
    again = with_dns(fake, lambda dns: dns.delete_record(API, deployment_id=deployment))

    assert (first, again) == (1, 0)
    assert fake.records(API) == []


def test_a_record_deleted_meanwhile_counts_as_deleted(fake: FakeCloudflare) -> None:
    deployment = new_deployment_id()
    with_dns(fake, lambda dns: dns.ensure_record(API, "203.0.113.5", deployment_id=deployment))
    # someone deletes it between our listing and our delete: Cloudflare answers 404
    fake.fail_next("DELETE", RECORD, 404, after_applying=True)

    removed = with_dns(fake, lambda dns: dns.delete_record(API, deployment_id=deployment))

    assert removed == 0
    assert statuses(fake, "DELETE", RECORD) == [404]
    assert fake.records(API) == []


def test_long_record_lists_are_read_page_by_page() -> None:
    with serve_fake_cloudflare(token="t0ken-for-pages", zone_name=ZONE, max_per_page=5) as fake:
        seeded = {fake.add_record(API, "TXT", f"note {n}") for n in range(12)}

        records = with_dns(fake, lambda dns: dns.records_of(API), token="t0ken-for-pages")

        assert {r.id for r in records} == seeded
        pages = [request.query.get("page", "1") for request in fake.requests("GET", RECORDS)]
        assert pages == ["1", "2", "3", "4"]


def test_proxied_records_have_the_automatic_ttl(fake: FakeCloudflare) -> None:
    deployment = new_deployment_id()

    record = with_dns(
        fake,
        lambda dns: dns.ensure_record(API, "93.184.215.14", deployment_id=deployment),
        proxied=True,
        ttl=300,
    )
    again = with_dns(
        fake,
        lambda dns: dns.ensure_record(API, "93.184.215.14", deployment_id=deployment),
        proxied=True,
        ttl=300,
    )

    assert (record.proxied, record.ttl) == (True, 1)
    assert again == record
    assert fake.requests("PUT") == []


def test_a_base_domain_outside_the_zone_is_caught_and_leaves_nothing(
    fake: FakeCloudflare,
) -> None:
    deployment = new_deployment_id()

    with pytest.raises(ProvisioningError) as refused:
        with_dns(
            fake,
            lambda dns: dns.ensure_record(
                "abc.api.example.org", "203.0.113.5", deployment_id=deployment
            ),
            base_domain="example.org",
        )

    assert "abc.api.example.org.example.com" in refused.value.message
    assert fake.records() == []


def test_only_the_given_token_authenticates(
    fake: FakeCloudflare, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the library would otherwise send these instead of the token
    monkeypatch.setenv("CLOUDFLARE_EMAIL", "someone@example.com")
    monkeypatch.setenv("CLOUDFLARE_API_KEY", "global-key-from-the-environment")
    fake.add_record(API, "TXT", "hello")

    records = with_dns(fake, lambda dns: dns.records_of(API))

    assert [r.content for r in records] == ["hello"]

"""Rate limits and server errors are retried within bounds; refusals become clear errors."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tests.control.providers.cloudflare.dns_client import (
    RECORDS,
    TOKEN,
    ZONE,
    new_deployment_id,
    statuses,
    with_dns,
)
from tests.support.fakes.cloudflare import FakeCloudflare
from tests.support.servers import free_port
from webhost.control.providers.cloudflare.dns import CloudflareDns
from webhost.control.providers.retries import RetryPolicy
from webhost.errors import ProvisioningError

API = f"abc.api.{ZONE}"


def test_a_rate_limited_create_is_retried_after_the_wait_cloudflare_asks_for(
    fake: FakeCloudflare,
) -> None:
    deployment = new_deployment_id()
    fake.fail_next("POST", RECORDS, 429, retry_after="1")

    record = with_dns(
        fake, lambda dns: dns.ensure_record(API, "203.0.113.5", deployment_id=deployment)
    )

    refused, accepted = fake.requests("POST", RECORDS)
    assert (refused.status, accepted.status) == (429, 200)
    # the policy's own first wait is 10 ms: only Retry-After explains a second's pause
    assert accepted.arrived_at - refused.arrived_at >= 0.95
    assert [r["id"] for r in fake.records(API)] == [record.id]


def test_a_server_error_is_retried(fake: FakeCloudflare) -> None:
    deployment = new_deployment_id()
    fake.fail_next("GET", RECORDS, 503)

    record = with_dns(
        fake, lambda dns: dns.ensure_record(API, "203.0.113.5", deployment_id=deployment)
    )

    assert statuses(fake, "GET", RECORDS)[0] == 503
    assert [r["id"] for r in fake.records(API)] == [record.id]


def test_a_create_whose_answer_was_lost_is_found_instead_of_made_twice(
    fake: FakeCloudflare,
) -> None:
    deployment = new_deployment_id()
    fake.fail_next("POST", RECORDS, 502, after_applying=True)

    record = with_dns(
        fake, lambda dns: dns.ensure_record(API, "203.0.113.5", deployment_id=deployment)
    )

    assert statuses(fake, "POST", RECORDS) == [502]
    assert [r["id"] for r in fake.records(API)] == [record.id]


def test_persistent_server_errors_give_up_after_the_allowed_attempts(fake: FakeCloudflare) -> None:
    deployment = new_deployment_id()
    fake.fail_next("GET", RECORDS, 500, times=10)

    with pytest.raises(ProvisioningError) as failed:
        with_dns(fake, lambda dns: dns.ensure_record(API, "203.0.113.5", deployment_id=deployment))

    assert statuses(fake, "GET", RECORDS) == [500, 500, 500]
    assert "in 3 attempts" in failed.value.message
    assert "HTTP 500" in failed.value.message
    assert fake.records() == []


def test_a_wait_longer_than_allowed_gives_up_at_once(fake: FakeCloudflare) -> None:
    deployment = new_deployment_id()
    fake.fail_next("GET", RECORDS, 429, retry_after="300")
    patient = RetryPolicy(attempts=5, first_delay=0.01, max_total_wait=60)

    with pytest.raises(ProvisioningError) as failed:
        with_dns(
            fake,
            lambda dns: dns.ensure_record(API, "203.0.113.5", deployment_id=deployment),
            retry=patient,
        )

    assert statuses(fake, "GET", RECORDS) == [429]
    assert "300 s" in failed.value.message
    assert "HTTP 429" in failed.value.message


def test_an_unreachable_api_is_retried_then_reported() -> None:
    deployment = new_deployment_id()
    nowhere = f"http://127.0.0.1:{free_port()}/client/v4"

    async def scenario() -> None:
        async with CloudflareDns(
            TOKEN,
            "0" * 32,
            ZONE,
            api_base=nowhere,
            retry=RetryPolicy(attempts=2, first_delay=0.01),
        ) as dns:
            await dns.ensure_record(API, "203.0.113.5", deployment_id=deployment)

    with pytest.raises(ProvisioningError) as failed:
        asyncio.run(scenario())

    assert "could not be reached" in failed.value.message
    assert "in 2 attempts" in failed.value.message


def test_a_record_cloudflare_refuses_gives_its_reason_without_retrying(
    fake: FakeCloudflare,
) -> None:
    deployment = new_deployment_id()

    with pytest.raises(ProvisioningError) as refused:
        with_dns(
            fake,
            lambda dns: dns.ensure_record(API, "10.0.0.5", deployment_id=deployment),
            proxied=True,
        )

    message = refused.value.message
    assert message.startswith(f"Cloudflare refused to point {API} at 10.0.0.5")
    assert "Target 10.0.0.5 is not allowed for a proxied record. (9003)" in message
    assert statuses(fake, "POST", RECORDS) == [400]
    assert fake.records() == []


def test_a_wrong_token_is_reported_without_showing_it(
    fake: FakeCloudflare, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "cf-wrong-token-Hq2uY7sVx0"
    caplog.set_level(logging.DEBUG)

    with pytest.raises(ProvisioningError) as refused:
        with_dns(
            fake,
            lambda dns: dns.ensure_record(API, "203.0.113.5", deployment_id=new_deployment_id()),
            token=wrong,
        )

    error = refused.value
    assert "refused the API token" in error.message
    assert "HTTP 403" in error.message
    assert "Authentication error (10000)" in error.message
    shown = [str(error), repr(error), str(error.__cause__), str(error.__context__), caplog.text]
    assert not [text for text in shown if wrong in text or TOKEN in text]
    assert statuses(fake, "GET", RECORDS) == [403]


def test_a_zone_the_token_may_not_see_is_refused_like_a_wrong_token(
    fake: FakeCloudflare,
) -> None:
    async def scenario() -> None:
        async with CloudflareDns(TOKEN, "f" * 32, ZONE, api_base=fake.url) as dns:
            await dns.records_of(API)

    with pytest.raises(ProvisioningError) as refused:
        asyncio.run(scenario())

    assert "refused the API token" in refused.value.message
    assert TOKEN not in refused.value.message

"""The stable hostnames step: a deployment's two proxied records, made once, switched, undone."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from typing import Any

import pytest

from tests.control.providers.cloudflare.dns_client import (
    FAST_RETRIES,
    RECORD,
    RECORDS,
    TOKEN,
    ZONE,
    statuses,
)
from tests.support.fakes.cloudflare import FakeCloudflare
from webhost.config import Settings
from webhost.control.plans.models import DeploymentMode
from webhost.control.providers.base import DeploymentSpec, StepRun
from webhost.control.providers.cloudflare.hostnames import StableHostnames
from webhost.control.providers.retries import RetryPolicy
from webhost.errors import ConfigurationError, ProvisioningError

HOST = "49.12.0.7"  # proxied records need a public address
OTHER_HOST = "49.12.0.8"


def deployment() -> DeploymentSpec:
    deployment_id = uuid.uuid4()
    return DeploymentSpec(
        id=deployment_id,
        organization_id=uuid.uuid4(),
        tenant_name=f"t_{deployment_id.hex[:16]}",
        mode=DeploymentMode.SHARED,
        plan_slug="hobby",
        provider="hetzner",
        region=None,
    )


def settings_for(fake: FakeCloudflare, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "cloudflare_api_token": TOKEN,
        "cloudflare_zone_id": fake.zone.id,
        "base_domain": ZONE,
        "cloudflare_api_base": fake.url,
    }
    values.update(overrides)
    return Settings(**values)


def step_for(fake: FakeCloudflare, target: str = HOST, **overrides: Any) -> StableHostnames:
    return StableHostnames(settings_for(fake, **overrides), lambda run: target, retry=FAST_RETRIES)


def names_of(spec: DeploymentSpec) -> tuple[str, str]:
    slug = spec.tenant_name.removeprefix("t_")
    return f"{slug}.api.{ZONE}", f"{slug}.sync.{ZONE}"


def contents(fake: FakeCloudflare, spec: DeploymentSpec) -> list[tuple[str, str, bool]]:
    return [
        (record["type"], record["content"], record["proxied"])
        for name in names_of(spec)
        for record in fake.records(name)
    ]


def test_applying_twice_makes_one_pair_of_proxied_records(fake: FakeCloudflare) -> None:
    spec = deployment()
    step = step_for(fake)

    first = asyncio.run(step.apply(StepRun(spec)))
    again = asyncio.run(step_for(fake).apply(StepRun(spec)))

    api, sync = names_of(spec)
    assert first == again == {"api": api, "sync": sync, "target": HOST}
    assert contents(fake, spec) == [("A", HOST, True), ("A", HOST, True)]
    assert statuses(fake, "POST", RECORDS) == [200, 200]
    assert all(str(spec.id) in record["comment"] for record in fake.records())
    endpoints = step.endpoints(spec, "https://host-a.example.com")
    assert (endpoints.api_url, endpoints.sync_url) == (f"https://{api}", f"wss://{sync}")
    assert endpoints.plane_url == "https://host-a.example.com"


def test_the_target_may_be_computed_from_earlier_steps(fake: FakeCloudflare) -> None:
    spec = deployment()

    async def target_of(run: StepRun) -> str:
        return str(run.outputs["placement"]["address"])

    step = StableHostnames(settings_for(fake), target_of, retry=FAST_RETRIES)
    run = StepRun(spec, outputs={"placement": {"address": OTHER_HOST}})
    assert asyncio.run(step.apply(run))["target"] == OTHER_HOST
    assert contents(fake, spec) == [("A", OTHER_HOST, True), ("A", OTHER_HOST, True)]


def test_switch_moves_both_names_to_another_host_or_app(fake: FakeCloudflare) -> None:
    spec = deployment()
    step = step_for(fake)
    asyncio.run(step.apply(StepRun(spec)))
    ids = sorted(record["id"] for record in fake.records())

    asyncio.run(step.switch(spec, OTHER_HOST))
    assert contents(fake, spec) == [("A", OTHER_HOST, True), ("A", OTHER_HOST, True)]
    assert sorted(record["id"] for record in fake.records()) == ids  # changed in place

    asyncio.run(step.switch(spec, "wh-app.fly.dev"))
    assert contents(fake, spec) == [
        ("CNAME", "wh-app.fly.dev", True),
        ("CNAME", "wh-app.fly.dev", True),
    ]


def test_undo_deletes_both_and_a_second_undo_finds_nothing_to_do(fake: FakeCloudflare) -> None:
    spec, other = deployment(), deployment()
    step = step_for(fake)
    asyncio.run(step.apply(StepRun(spec)))
    asyncio.run(step.apply(StepRun(other)))

    asyncio.run(step.undo(StepRun(spec)))
    asyncio.run(step.undo(StepRun(spec)))

    assert contents(fake, spec) == []
    assert len(contents(fake, other)) == 2  # another deployment's records stay
    assert statuses(fake, "DELETE", RECORD) == [200, 200]


def test_undo_before_anything_was_made_succeeds(fake: FakeCloudflare) -> None:
    asyncio.run(step_for(fake).undo(StepRun(deployment())))
    assert fake.requests("DELETE") == []


def test_rate_limits_and_server_errors_are_retried(fake: FakeCloudflare) -> None:
    spec = deployment()
    fake.fail_next("POST", RECORDS, 429, retry_after="0")
    fake.fail_next("GET", RECORDS, 503)
    # the answer is lost after the record was made: the retry finds it, makes no second one
    fake.fail_next("POST", RECORDS, 502, after_applying=True)

    patient = RetryPolicy(attempts=5, first_delay=0.01, max_delay=0.04, max_total_wait=10)
    step = StableHostnames(settings_for(fake), lambda run: HOST, retry=patient)

    asyncio.run(step.apply(StepRun(spec)))

    assert contents(fake, spec) == [("A", HOST, True), ("A", HOST, True)]
    assert 429 in statuses(fake, "POST", RECORDS)
    assert 503 in statuses(fake, "GET", RECORDS)


def test_a_record_deleted_meanwhile_counts_as_deleted(fake: FakeCloudflare) -> None:
    spec = deployment()
    step = step_for(fake)
    asyncio.run(step.apply(StepRun(spec)))
    # someone else deletes it between our listing and our delete: Cloudflare answers 404
    fake.fail_next("DELETE", RECORD, 404, after_applying=True, times=2)

    asyncio.run(step.undo(StepRun(spec)))

    assert contents(fake, spec) == []
    assert statuses(fake, "DELETE", RECORD) == [404, 404]


def test_a_refused_token_fails_with_a_clear_error_and_never_shows_it(
    fake: FakeCloudflare,
) -> None:
    wrong = f"cf-{secrets.token_hex(12)}"
    with pytest.raises(ProvisioningError) as failure:
        asyncio.run(step_for(fake, cloudflare_api_token=wrong).apply(StepRun(deployment())))
    assert "refused the API token" in failure.value.message
    assert wrong not in failure.value.message


def test_missing_settings_are_named(fake: FakeCloudflare) -> None:
    step = step_for(fake, cloudflare_api_token=None, base_domain=None)
    with pytest.raises(ConfigurationError) as failure:
        asyncio.run(step.apply(StepRun(deployment())))
    assert "WEBHOST_CLOUDFLARE_API_TOKEN" in failure.value.message
    assert "WEBHOST_BASE_DOMAIN" in failure.value.message
    assert "WEBHOST_CLOUDFLARE_ZONE_ID" not in failure.value.message

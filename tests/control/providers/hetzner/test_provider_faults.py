"""The hetzner provider under failure: a run cut off mid-step resumes without a second server,
a step failing for good leaves nothing behind, Hetzner's 429 and 5xx are waited out."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.control.providers.hetzner.conftest import BASE_DOMAIN
from tests.control.providers.hetzner.platforms import (
    cloud_counts,
    hosts,
    placements,
    provider_of,
    run_of,
    slug_of,
    start_hetzner_platform,
)
from tests.support.factories import sign_up
from tests.support.fakes.cloudflare import FakeCloudflare
from tests.support.fakes.hetzner import FakeHetzner
from tests.support.inspect import query
from tests.support.platform import PlatformThread
from tests.support.polling import wait_until
from tests.support.shared_hosts import SharedHostPlanes
from webhost.control.deployments import repository as deployments_repository
from webhost.control.deployments import service as deployments
from webhost.control.providers.base import StepRun
from webhost.control.provisioning import workflow
from webhost.db.urls import PostgresURL
from webhost.runtime import Components

pytestmark = pytest.mark.slow


@pytest.fixture
def driven(
    postgres_server: PostgresURL,
    tmp_path: Path,
    hetzner: FakeHetzner,
    cloudflare: FakeCloudflare,
    host_planes: SharedHostPlanes,
) -> Iterator[PlatformThread]:
    """A platform without a worker: the test runs the workflow itself."""
    platform = start_hetzner_platform(
        postgres_server,
        tmp_path,
        hetzner=hetzner,
        cloudflare=cloudflare,
        planes=host_planes,
        components=Components(worker=False),
    )
    yield platform
    platform.stop()


def provision(platform: PlatformThread, deployment_id: str, *, final_attempt: bool) -> None:
    assert platform.runtime is not None
    assert platform.runtime.platform is not None
    running = platform.runtime.platform
    run_id = run_of(platform, deployment_id)
    platform.call(
        lambda: workflow.provision(
            running, uuid.UUID(deployment_id), run_id, final_attempt=final_attempt
        ),
        timeout=120,
    )


def status_of(platform: PlatformThread, deployment_id: str) -> str:
    [(status,)] = query(
        platform.control_database,
        "SELECT status::text FROM deployments WHERE id = $1",
        uuid.UUID(deployment_id),
    )
    return str(status)


def test_a_run_cut_off_mid_step_resumes_without_a_second_server(
    driven: PlatformThread, hetzner: FakeHetzner
) -> None:
    deployment_id = sign_up(driven.control_url, plan="hobby").deployment["id"]
    assert driven.runtime is not None
    assert driven.runtime.platform is not None
    running = driven.runtime.platform
    run_id = run_of(driven, deployment_id)

    async def cut_off() -> None:
        task = asyncio.create_task(
            workflow.provision(running, uuid.UUID(deployment_id), run_id, final_attempt=False)
        )
        while cloud_counts(hetzner)[0] == 0:  # noqa: ASYNC110 - the fake runs in another thread
            await asyncio.sleep(0.01)
        task.cancel()  # as a killed worker stops: between two awaits, mid-step
        await asyncio.gather(task, return_exceptions=True)

    driven.call(cut_off)
    assert status_of(driven, deployment_id) == "provisioning"

    provision(driven, deployment_id, final_attempt=False)

    assert status_of(driven, deployment_id) == "active"
    assert cloud_counts(hetzner) == (1, 1, 1)
    assert len(hosts(driven)) == 1
    steps = query(
        driven.control_database,
        "SELECT name, status::text, attempts FROM provisioning_steps WHERE run_id = $1 "
        "ORDER BY position",
        run_id,
    )
    assert steps == [
        ("shared_host", "done", 2),
        ("tenant_on_host", "done", 1),
        ("stable_hostnames", "done", 1),
    ]


def test_a_step_failing_for_good_is_undone_in_reverse_and_leaves_nothing(
    driven: PlatformThread,
    hetzner: FakeHetzner,
    cloudflare: FakeCloudflare,
    host_planes: SharedHostPlanes,
) -> None:
    deployment_id = sign_up(driven.control_url, plan="hobby").deployment["id"]
    # someone else's record holds the deployment's API hostname: no retry changes that
    taken = f"{slug_of(deployment_id)}.api.{BASE_DOMAIN}"
    cloudflare.add_record(taken, "A", "49.12.9.9", comment="not ours")

    with pytest.raises(workflow.ProvisioningFailed, match="stable_hostnames"):
        provision(driven, deployment_id, final_attempt=True)

    assert status_of(driven, deployment_id) == "failed"
    steps = query(
        driven.control_database,
        "SELECT name, status::text FROM provisioning_steps WHERE run_id = $1 ORDER BY position",
        run_of_any(driven, deployment_id),
    )
    assert steps == [
        ("shared_host", "undone"),
        ("tenant_on_host", "undone"),
        ("stable_hostnames", "undone"),
    ]
    # the tenant left its plane, and the host made for it went with everything it had
    [plane] = host_planes.planes.values()
    tenants = query(plane.database, "SELECT count(*) FROM webhost_dataplane.tenants")
    assert tenants == [(0,)]
    assert cloud_counts(hetzner) == (0, 0, 0)
    assert hosts(driven) == []
    assert placements(driven) == {}
    assert [record["name"] for record in cloudflare.records()] == [taken]
    # the host's origin certificate was revoked with it
    [issued] = cloudflare.origin_ca.certificates.values()
    assert cloudflare.origin_ca.revoked == {issued["id"]}


def test_hetzner_rate_limits_and_server_errors_are_waited_out(
    driven: PlatformThread, hetzner: FakeHetzner
) -> None:
    deployment_id = sign_up(driven.control_url, plan="hobby").deployment["id"]
    hetzner.fail_next("POST", "/v1/servers", status=429, retry_after="0")
    hetzner.fail_next("POST", "/v1/volumes", status=503, retry_after="0")
    # the firewall is made, but the answer is lost: the retry finds it by its labels
    hetzner.fail_next("POST", "/v1/firewalls", status=502, retry_after="0", after_handling=True)

    provision(driven, deployment_id, final_attempt=False)

    assert status_of(driven, deployment_id) == "active"
    assert cloud_counts(hetzner) == (1, 1, 1)
    statuses = [request.status for request in hetzner.requests_to("POST", "/v1/servers")]
    assert statuses == [429, 201]
    wait_until(lambda: len(hosts(driven)) == 1, message="one host")


def run_of_any(platform: PlatformThread, deployment_id: str) -> uuid.UUID:
    [(run_id,)] = query(
        platform.control_database,
        "SELECT id FROM workflow_runs WHERE deployment_id = $1",
        uuid.UUID(deployment_id),
    )
    assert isinstance(run_id, uuid.UUID)
    return run_id


def test_placements_at_once_neither_overfill_a_host_nor_make_two(
    driven: PlatformThread,
) -> None:
    provider = provider_of(driven)
    first = [uuid.UUID(sign_up(driven.control_url).deployment["id"]) for _ in range(3)]

    async def claim_all(ids: list[uuid.UUID]) -> list[str]:
        claimed = await asyncio.gather(*(provider.placements.claim(i) for i in ids))
        return [host.id for host in claimed]

    [host_id] = set(driven.call(lambda: claim_all(first)))
    query(driven.control_database, "UPDATE shared_hosts SET capacity = 3")
    later = [uuid.UUID(sign_up(driven.control_url).deployment["id"]) for _ in range(2)]

    [new_host] = set(driven.call(lambda: claim_all(later)))

    assert new_host != host_id
    on = placements(driven)
    assert sorted(on.values()).count(host_id) == 3
    assert sorted(on.values()).count(new_host) == 2


def test_a_host_left_empty_stays_until_the_reclaim_sweep_removes_it(
    driven: PlatformThread, hetzner: FakeHetzner, cloudflare: FakeCloudflare
) -> None:
    provider = provider_of(driven)
    ids = [sign_up(driven.control_url).deployment["id"] for _ in range(2)]
    for deployment_id in ids:
        provision(driven, deployment_id, final_attempt=False)
    assert len(hosts(driven)) == 1

    async def undo_all() -> list[str]:
        assert driven.runtime is not None
        assert driven.runtime.platform is not None
        for deployment_id in reversed(ids):
            async with driven.runtime.platform.sessions() as session:
                deployment = await deployments_repository.get(session, uuid.UUID(deployment_id))
                assert deployment is not None
                spec = await deployments.spec_of(session, deployment)
            for step in reversed(provider.provision_steps(spec)):
                await step.undo(StepRun(spec))
        # the host made for the first was still serving the second: it waits, empty
        assert cloud_counts(hetzner) == (1, 1, 1)
        assert await provider.reclaim_empty_hosts(timedelta(hours=1)) == []
        return await provider.reclaim_empty_hosts(timedelta(0))

    [removed] = driven.call(undo_all)

    assert hosts(driven) == []
    assert cloud_counts(hetzner) == (0, 0, 0)
    assert cloudflare.records() == []
    assert removed.startswith("shared-")
    assert cloudflare.origin_ca.live_for(f"host-{removed}.{BASE_DOMAIN}") == []
    assert len(cloudflare.origin_ca.revoked) == 1

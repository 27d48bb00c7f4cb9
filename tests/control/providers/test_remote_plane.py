"""The control plane's client of a plane's management API, against a real plane with a token."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from structlog.testing import capture_logs

from tests.support.clients import api_client
from tests.support.management import MANAGEMENT_TOKEN, serve_managed_plane
from tests.support.proxy import FaultyProxy, Mode
from tests.support.servers import ServedApp, free_port
from webhost.control.keys.models import KeyScope
from webhost.control.providers.remote_plane import PlaneRefusal, RemotePlane
from webhost.control.providers.retries import RetryPolicy
from webhost.data.tenancy.limits import TenantLimits
from webhost.data.tenancy.repository import ServingState
from webhost.data.tenancy.scope import Tenant, tenant_name_for
from webhost.db.urls import PostgresURL
from webhost.errors import ConfigurationError, ProvisioningError
from webhost.security.api_keys import generate_api_key

T = TypeVar("T")
FAST_RETRIES = RetryPolicy(attempts=4, first_delay=0.01, max_delay=0.05, max_total_wait=10.0)


@pytest.fixture(scope="module")
def plane(dataplane_database: PostgresURL) -> Iterator[ServedApp]:
    served = serve_managed_plane(dataplane_database)
    yield served
    served.stop()


def run(
    url: str, scenario: Callable[[RemotePlane], Awaitable[T]], *, token: str = MANAGEMENT_TOKEN
) -> T:
    async def main() -> T:
        remote = RemotePlane(url, token, retry=FAST_RETRIES)
        try:
            return await scenario(remote)
        finally:
            await remote.aclose()

    return asyncio.run(main())


def new_tenant() -> Tenant:
    tenant_id = uuid.uuid4()
    return Tenant(id=tenant_id, name=tenant_name_for(tenant_id))


def test_a_tenant_provisioned_through_the_client_serves_its_keys(plane: ServedApp) -> None:
    tenant, key = new_tenant(), generate_api_key()

    async def provision(remote: RemotePlane) -> int:
        await remote.wait_healthy(timeout_seconds=10)
        before = await remote.tenant_count()
        await remote.ensure_tenant(tenant, TenantLimits(vehicle_limit=3))
        await remote.ensure_tenant(tenant, TenantLimits(vehicle_limit=3))  # a retried step
        await remote.publish_key(tenant.id, key.prefix, key.secret_digest, KeyScope.FULL)
        return await remote.tenant_count() - before

    assert run(plane.url, provision) == 1
    with api_client(plane.url, key.full_key) as client:
        assert client.post("/v1/fleet/vehicles", json={"identifier": "bus"}).status_code == 201
    held = run(plane.url, lambda remote: remote.holdings(tenant.id))
    assert (held.vehicles, held.oldest_position) == (1, None)

    run(plane.url, lambda remote: remote.publish_limits(tenant, TenantLimits(vehicle_limit=1)))
    with api_client(plane.url, key.full_key) as client:
        refused = client.post("/v1/fleet/vehicles", json={"identifier": "car"})
        assert refused.json()["error"]["code"] == "vehicle_limit_reached"

        async def suspend(remote: RemotePlane) -> None:
            await remote.set_serving_state(tenant.id, ServingState.SUSPENDED, "unpaid")

        run(plane.url, suspend)
        assert client.get("/v1/collections").status_code == 402
        run(plane.url, lambda r: r.set_serving_state(tenant.id, ServingState.ACTIVE, None))
        assert client.get("/v1/collections").status_code == 200
        run(plane.url, lambda remote: remote.revoke_key(tenant.id, key.prefix))
        assert client.get("/v1/collections").status_code == 401

    async def remove(remote: RemotePlane) -> None:
        await remote.remove_tenant(tenant.id)
        await remote.remove_tenant(tenant.id)  # gone counts as removed

    run(plane.url, remove)
    with pytest.raises(PlaneRefusal) as missing:
        run(plane.url, lambda remote: remote.holdings(tenant.id))
    assert missing.value.response_status == 404
    assert "is not on this plane" in missing.value.message


def test_an_export_streams_the_tenants_rows_and_a_refusal_comes_before_any(
    plane: ServedApp,
) -> None:
    tenant, key = new_tenant(), generate_api_key()

    async def provision(remote: RemotePlane) -> None:
        await remote.ensure_tenant(tenant, TenantLimits())
        await remote.publish_key(tenant.id, key.prefix, key.secret_digest, KeyScope.FULL)

    run(plane.url, provision)
    with api_client(plane.url, key.full_key) as client:
        assert client.put("/v1/collections/notes", json={"schema": "id"}).status_code == 201
        for number in range(300):
            assert client.post("/v1/collections/notes/records", json={"id": f"n{number}"})

    async def export(remote: RemotePlane) -> list[str]:
        return [line async for line in remote.export_lines(tenant.id)]

    lines = [json.loads(line) for line in run(plane.url, export)]
    notes = {line["row"]["pk"] for line in lines if line["table"] == "c_notes"}
    assert notes == {f"n{number}" for number in range(300)}

    async def export_missing(remote: RemotePlane) -> list[str]:
        return [line async for line in remote.export_lines(uuid.uuid4())]

    with pytest.raises(PlaneRefusal) as missing:
        run(plane.url, export_missing)
    assert missing.value.response_status == 404
    assert "is not on this plane" in missing.value.message
    with pytest.raises(ProvisioningError, match="could not export the tenant's data"):
        run(f"http://127.0.0.1:{free_port()}", export)


def test_a_wrong_token_is_a_refusal_that_never_shows_a_token(plane: ServedApp) -> None:
    wrong = "not-the-management-token-9a8b7c6d"
    with capture_logs() as logs, pytest.raises(PlaneRefusal) as refused:
        run(plane.url, lambda remote: remote.tenant_count(), token=wrong)
    assert refused.value.response_status == 401
    assert "did not accept the management token" in refused.value.message
    for text in (refused.value.message, repr(logs)):
        assert wrong not in text
        assert MANAGEMENT_TOKEN not in text


def test_a_plane_refusal_carries_the_planes_message(dataplane_database: PostgresURL) -> None:
    own, other = new_tenant(), new_tenant()
    dedicated = serve_managed_plane(dataplane_database, only_tenant=own.id)
    try:
        with pytest.raises(PlaneRefusal) as refused:
            run(dedicated.url, lambda remote: remote.ensure_tenant(other, TenantLimits()))
        assert refused.value.plane_code == "not_found"
        assert "serves one tenant only" in refused.value.message
        assert dedicated.url in refused.value.message
        run(dedicated.url, lambda remote: remote.remove_tenant(other.id))  # not there: removed
    finally:
        dedicated.stop()


def test_connect_errors_are_retried_until_the_plane_answers(plane: ServedApp) -> None:
    proxy = FaultyProxy(plane.port).start()
    proxy.switch(Mode.OFFLINE)
    patient = RetryPolicy(attempts=20, first_delay=0.1, max_delay=0.2, max_total_wait=20.0)

    async def count() -> int:
        remote = RemotePlane(proxy.url, MANAGEMENT_TOKEN, retry=patient)
        try:
            return await remote.tenant_count()
        finally:
            await remote.aclose()

    threading.Timer(0.5, proxy.switch, args=(Mode.PASS,)).start()
    try:
        with capture_logs() as logs:
            assert asyncio.run(count()) >= 0
    finally:
        proxy.stop()
    assert logs, "the first attempts found the plane offline"
    assert all(MANAGEMENT_TOKEN not in repr(entry) for entry in logs)


class FlakyPlane:
    """Answers the first ``failures`` requests with ``status`` (and Retry-After), then 200."""

    def __init__(self, status: int, failures: int, retry_after: str | None = None) -> None:
        self.status, self.failures, self.retry_after = status, failures, retry_after
        self.seen: list[tuple[float, str | None]] = []

    async def capacity(self, request: Request) -> Response:
        self.seen.append((time.monotonic(), request.headers.get("authorization")))
        if len(self.seen) <= self.failures:
            headers = {"Retry-After": self.retry_after} if self.retry_after else {}
            body = {"error": {"code": "busy", "message": "try again"}}
            return JSONResponse(body, status_code=self.status, headers=headers)
        return JSONResponse({"tenants": 7})

    def served(self) -> ServedApp:
        async def build() -> Any:
            return Starlette(routes=[Route("/_manage/v1/capacity", self.capacity)])

        return ServedApp(build).start()


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_rate_limits_and_server_errors_are_retried(status: int) -> None:
    flaky = FlakyPlane(status, failures=2)
    served = flaky.served()
    try:
        assert run(served.url, lambda remote: remote.tenant_count()) == 7
    finally:
        served.stop()
    assert len(flaky.seen) == 3
    assert {header for _, header in flaky.seen} == {f"Bearer {MANAGEMENT_TOKEN}"}


def test_retry_after_is_waited_out() -> None:
    flaky = FlakyPlane(429, failures=1, retry_after="1")
    served = flaky.served()
    try:
        assert run(served.url, lambda remote: remote.tenant_count()) == 7
    finally:
        served.stop()
    (limited, _), (answered, _) = flaky.seen
    assert answered - limited >= 0.9, "the retry came before Retry-After allowed"


def test_a_persistent_failure_gives_up_after_the_allowed_attempts() -> None:
    flaky = FlakyPlane(503, failures=1000)
    served = flaky.served()
    try:
        with pytest.raises(ProvisioningError) as failed:
            run(served.url, lambda remote: remote.tenant_count())
    finally:
        served.stop()
    assert len(flaky.seen) == FAST_RETRIES.attempts
    assert "HTTP 503 (try again), still after 4 attempts" in failed.value.message
    assert not isinstance(failed.value, PlaneRefusal)


def test_waiting_for_a_plane_that_never_starts_times_out_clearly() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(ProvisioningError) as failed:
        run(url, lambda remote: remote.wait_healthy(timeout_seconds=1.5))
    assert time.monotonic() - started < 10
    assert failed.value.message.startswith(f"the data plane at {url} did not become healthy")
    assert "ConnectError" in failed.value.message


@pytest.mark.parametrize("token", ["", "   ", "tok\nen", "tökén"])
def test_a_token_no_header_can_carry_is_refused_up_front(token: str) -> None:
    with pytest.raises(ConfigurationError):
        RemotePlane("http://127.0.0.1:1", token)

"""Rate limits, server errors and refusals: what is retried, for how long, and what the caller
is told (never the token)."""

from __future__ import annotations

import asyncio

import pytest
from structlog.testing import capture_logs

from tests.control.providers.flyio.helpers import ORG, TOKEN, app_name, run
from tests.support.fakes.flyio import FakeFly, serve_fake_fly
from tests.support.servers import free_port
from webhost.control.providers.flyio.machines import FlyMachinesApi
from webhost.control.providers.retries import RetryPolicy
from webhost.errors import ConfigurationError, ProvisioningError


def test_a_rate_limit_is_waited_out_as_long_as_retry_after_says(fake_fly: FakeFly) -> None:
    name = app_name()
    fake_fly.fail_next("GET", f"/v1/apps/{name}", 429, retry_after="1")

    with capture_logs() as logs:
        app = run(fake_fly, lambda fly: fly.ensure_app(name))

    assert app.name == name
    limited, answered, *_ = fake_fly.requests_to("GET", f"/v1/apps/{name}")
    assert (limited.status, answered.status) == (429, 404)
    assert answered.at - limited.at >= 0.9, "the retry came before Retry-After allowed"
    [retry] = logs
    assert retry["wait_seconds"] >= 1.0
    assert retry["failure"] == "HTTP 429 (rate limit exceeded)"


def test_a_server_error_is_retried(fake_fly: FakeFly) -> None:
    name = app_name()
    run(fake_fly, lambda fly: fly.ensure_app(name))
    fake_fly.fail_next("POST", f"/v1/apps/{name}/volumes", 503)

    volume = run(fake_fly, lambda fly: fly.ensure_volume(name, "pg_data", "fra", 10))

    posts = fake_fly.requests_to("POST", f"/v1/apps/{name}/volumes")
    assert [r.status for r in posts] == [503, 200]
    assert list(fake_fly.apps[name].volumes) == [volume.id]


def test_a_persistent_server_error_fails_after_the_allowed_attempts(fake_fly: FakeFly) -> None:
    name = app_name()
    run(fake_fly, lambda fly: fly.ensure_app(name))
    fake_fly.fail_next("GET", f"/v1/apps/{name}/machines", 500, times=1000)

    with pytest.raises(ProvisioningError) as failed:
        run(fake_fly, lambda fly: fly.list_machines(name))

    assert failed.value.message.startswith(
        f"Fly.io could not list the machines of app {name}: HTTP 500 (internal error "
        "(injected 500)), still after 4 attempts in "
    )
    assert len(fake_fly.requests_to("GET", f"/v1/apps/{name}/machines")) == 4


def test_a_retry_after_beyond_the_budget_gives_up_at_once(fake_fly: FakeFly) -> None:
    name = app_name()
    fake_fly.fail_next("GET", f"/v1/apps/{name}", 429, retry_after="120")

    with pytest.raises(ProvisioningError, match=r"HTTP 429 \(rate limit exceeded\), still after 1"):
        run(fake_fly, lambda fly: fly.ensure_app(name))

    assert len(fake_fly.requests_to("GET", f"/v1/apps/{name}")) == 1


def test_no_answer_at_all_fails_after_the_allowed_attempts() -> None:
    closed = f"http://127.0.0.1:{free_port()}"

    async def scenario() -> None:
        async with FlyMachinesApi(
            TOKEN, ORG, api_base=closed, retry=RetryPolicy(3, 0.01, 0.02, 5.0)
        ) as fly:
            await fly.ensure_app(app_name())

    with pytest.raises(ProvisioningError, match=r"no answer \(ConnectError\), still after 3"):
        asyncio.run(scenario())


def test_a_wrong_token_is_a_clear_error_that_does_not_show_it(fake_fly: FakeFly) -> None:
    wrong = "fo1_wrong-token-aaaaaaaaaaaaaaaa"
    name = app_name()

    with pytest.raises(ProvisioningError) as refused:
        run(fake_fly, lambda fly: fly.ensure_app(name), token=wrong)

    assert refused.value.message == (
        f"Fly.io did not accept the API token (HTTP 401) when asked to look up app {name}: "
        "Authenticate: token validation error"
    )
    assert wrong not in str(refused.value)
    assert TOKEN not in str(refused.value)
    assert len(fake_fly.requests_to("GET", f"/v1/apps/{name}")) == 1, "a 401 is not retried"


def test_a_macaroon_token_is_sent_with_its_own_scheme() -> None:
    macaroon = "FlyV1 fm2_lJPECAAAAAAAAAAA,fm2_lJPEEO0aaaaaaaa"
    name = app_name()
    with serve_fake_fly(token=macaroon, org_slug=ORG) as fake:
        app = run(fake, lambda fly: fly.ensure_app(name), token=macaroon)

    assert app.organization.slug == ORG


def test_a_token_a_header_cannot_carry_is_refused_without_showing_it() -> None:
    token = "fo1_half\nother-half"

    with pytest.raises(ConfigurationError) as refused:
        FlyMachinesApi(token, ORG)

    assert "half" not in refused.value.message

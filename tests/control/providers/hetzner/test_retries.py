"""Rate limits, server errors and refusals, as the provisioning steps see them."""

from __future__ import annotations

import pytest

from tests.control.providers.hetzner.conftest import TOKEN, cloud_for
from tests.control.providers.hetzner.hosts import make_firewall, make_server, new_host_id, run
from tests.support.fakes.hetzner import FakeHetzner
from tests.support.servers import free_port
from webhost.control.providers.hetzner.cloud import HetznerCloud
from webhost.control.providers.retries import RetryPolicy
from webhost.errors import ConfigurationError, ProvisioningError


def test_a_rate_limited_call_is_retried_after_retry_after(
    hetzner: FakeHetzner, cloud: HetznerCloud
) -> None:
    hetzner.fail_next("GET", "/v1/firewalls", status=429, retry_after="1")

    firewall = run(make_firewall(cloud, new_host_id()))

    limited, retried = hetzner.requests_to("GET", "/v1/firewalls")
    assert (limited.status, retried.status) == (429, 200)
    # a lower bound, which a slow machine only makes larger: the back-off alone is 10 ms
    assert retried.arrived - limited.arrived >= 1.0
    assert firewall.id in hetzner.project.firewalls


def test_a_rate_limit_without_retry_after_backs_off_and_succeeds(
    hetzner: FakeHetzner, cloud: HetznerCloud
) -> None:
    hetzner.fail_next("GET", "/v1/firewalls", status=429, times=2)

    run(make_firewall(cloud, new_host_id()))

    statuses = [request.status for request in hetzner.requests_to("GET", "/v1/firewalls")]
    assert statuses == [429, 429, 200]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_server_error_is_retried(hetzner: FakeHetzner, cloud: HetznerCloud, status: int) -> None:
    hetzner.fail_next("POST", "/v1/firewalls", status=status)

    run(make_firewall(cloud, new_host_id()))

    statuses = [request.status for request in hetzner.requests_to("POST", "/v1/firewalls")]
    assert statuses == [status, 201]
    assert len(hetzner.project.firewalls) == 1


def test_a_locked_resource_is_waited_for(hetzner: FakeHetzner, cloud: HetznerCloud) -> None:
    host = new_host_id()
    server = run(make_server(cloud, host))
    hetzner.fail_next("DELETE", f"/v1/servers/{server.id}", status=423)

    run(cloud.delete_server(host))

    assert hetzner.project.servers == {}


def test_a_persistent_server_error_gives_up_after_the_policys_attempts(
    hetzner: FakeHetzner,
) -> None:
    policy = RetryPolicy(attempts=3, first_delay=0.01, max_total_wait=30)
    hetzner.fail_next("GET", "/v1/firewalls", status=503, times=100, message="maintenance")

    with pytest.raises(ProvisioningError) as failed:
        run(make_firewall(cloud_for(hetzner, retry=policy), new_host_id()))

    assert len(hetzner.requests_to("GET", "/v1/firewalls")) == 3
    assert "kept failing while ensuring firewall" in failed.value.message
    assert "503 service_error: maintenance" in failed.value.message
    assert "gave up after 3 attempts" in failed.value.message


def test_a_retry_after_beyond_the_time_budget_gives_up_at_once(hetzner: FakeHetzner) -> None:
    policy = RetryPolicy(attempts=5, first_delay=0.01, max_total_wait=5)
    hetzner.fail_next("GET", "/v1/firewalls", status=429, times=5, retry_after="3600")

    with pytest.raises(ProvisioningError, match="429 rate_limit_exceeded"):
        run(make_firewall(cloud_for(hetzner, retry=policy), new_host_id()))

    assert len(hetzner.requests_to("GET", "/v1/firewalls")) == 1


def test_a_validation_error_is_not_retried_and_says_what_was_refused(
    hetzner: FakeHetzner,
) -> None:
    cloud = cloud_for(hetzner, server_type="cx999")

    with pytest.raises(ProvisioningError) as refused:
        run(make_server(cloud, new_host_id()))

    assert len(hetzner.requests_to("POST", "/v1/servers")) == 1
    message = refused.value.message
    assert message.startswith("Hetzner Cloud refused ensuring server")
    assert "invalid_input" in message
    assert "server_type: server_type 'cx999' does not exist" in message


def test_a_wrong_token_is_a_clear_error_that_does_not_show_the_token(
    hetzner: FakeHetzner,
) -> None:
    wrong = "x" * 63 + "y"
    cloud = cloud_for(hetzner, token=wrong)

    with pytest.raises(ProvisioningError) as refused:
        run(make_firewall(cloud, new_host_id()))

    assert "did not accept the API token" in refused.value.message
    assert "unauthorized" in refused.value.message
    assert wrong not in str(refused.value)
    assert len(hetzner.requests) == 1  # a refusal is final


def test_an_answer_that_quotes_the_token_is_redacted(hetzner: FakeHetzner) -> None:
    cloud = cloud_for(hetzner)
    hetzner.fail_next(
        "GET", "/v1/firewalls", status=400, code="invalid_input", message=f"bad request {TOKEN}"
    )

    with pytest.raises(ProvisioningError) as refused:
        run(make_firewall(cloud, new_host_id()))

    assert TOKEN not in str(refused.value)
    assert "bad request [token]" in refused.value.message


def test_an_unreachable_api_gives_up_after_the_policys_attempts() -> None:
    policy = RetryPolicy(attempts=2, first_delay=0.01, max_total_wait=30)
    cloud = HetznerCloud(
        TOKEN,
        api_endpoint=f"http://127.0.0.1:{free_port()}/v1",
        location="fsn1",
        server_type="cx22",
        image="debian-12",
        retry=policy,
    )

    with pytest.raises(ProvisioningError, match=r"no answer \(ConnectionError\).*2 attempts"):
        run(make_firewall(cloud, new_host_id()))


def test_an_empty_token_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="token is empty"):
        HetznerCloud("", location="fsn1", server_type="cx22", image="debian-12")


def test_hcloud_does_not_add_retries_of_its_own(hetzner: FakeHetzner) -> None:
    policy = RetryPolicy(attempts=3, first_delay=0.01, max_total_wait=30)
    hetzner.fail_next("GET", "/v1/firewalls", status=409, code="conflict", times=100)

    with pytest.raises(ProvisioningError, match="409 conflict"):
        run(make_firewall(cloud_for(hetzner, retry=policy), new_host_id()))

    # hcloud alone would have sent six requests for each of ours
    assert len(hetzner.requests_to("GET", "/v1/firewalls")) == 3

"""Failed logins slow down their account and their address, over HTTP, across processes.

The session platform runs with FAST_LOGIN_THROTTLE: 3 free failures per account, 6 per address,
then waits of 3 s doubling up to 12 s. Every test speaks from addresses of its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support.dashboard import DashboardUser, text_of
from tests.support.factories import PASSWORD, Customer, unique_email
from tests.support.logins import FAST_LOGIN_THROTTLE, fresh_address, log_in
from tests.support.platform import PlatformThread, platform_settings
from webhost.runtime import Components

SignUp = Callable[..., Customer]
ACCOUNT_FAILURES = FAST_LOGIN_THROTTLE["login_account_failures"]
ADDRESS_FAILURES = FAST_LOGIN_THROTTLE["login_address_failures"]
FIRST_WAIT = FAST_LOGIN_THROTTLE["login_throttle_seconds"]
# the second control plane's waits outlast any slow burst of requests
SLOW_LOGIN_THROTTLE = FAST_LOGIN_THROTTLE | {
    "login_throttle_seconds": 120,
    "login_lockout_max_seconds": 480,
}


def fail_logins(control_url: str, email: str, address: str, times: int) -> None:
    for attempt in range(times):
        response = log_in(control_url, email, f"wrong password {attempt}", address)
        assert response.status_code == 401, response.text


def wait_out(response: httpx.Response) -> None:
    time.sleep(int(response.headers["Retry-After"]) + 0.1)


def test_an_account_waits_after_repeated_failures_from_any_address(
    platform: PlatformThread, signup: SignUp
) -> None:
    customer, bystander = signup(), signup()
    attacker = fresh_address()
    fail_logins(platform.control_url, customer.email, attacker, ACCOUNT_FAILURES)

    # the per-account rule holds wherever the next attempt comes from, right password or not
    refused = log_in(platform.control_url, customer.email, PASSWORD, fresh_address())
    assert refused.status_code == 429
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= FIRST_WAIT
    assert refused.json()["error"] == {
        "code": "rate_limited",
        "message": "too many failed logins for this account: "
        f"try again in {retry_after} second{'s' if retry_after > 1 else ''}",
    }
    # the attacker's address is below its own limit: other accounts log in from it
    assert log_in(platform.control_url, bystander.email, PASSWORD, attacker).status_code == 200


def test_a_wait_ends_and_each_further_failure_doubles_it(
    platform: PlatformThread, signup: SignUp
) -> None:
    customer = signup()
    address = fresh_address()
    fail_logins(platform.control_url, customer.email, address, ACCOUNT_FAILURES)
    first = log_in(platform.control_url, customer.email, "wrong again", address)
    assert first.status_code == 429

    wait_out(first)
    fail_logins(platform.control_url, customer.email, address, 1)
    second = log_in(platform.control_url, customer.email, "wrong again", address)
    assert second.status_code == 429
    assert FIRST_WAIT < int(second.headers["Retry-After"]) <= 2 * FIRST_WAIT


def test_a_successful_login_after_the_wait_clears_the_account(
    platform: PlatformThread, signup: SignUp
) -> None:
    customer = signup()
    address = fresh_address()
    fail_logins(platform.control_url, customer.email, address, ACCOUNT_FAILURES)
    refused = log_in(platform.control_url, customer.email, PASSWORD, address)
    assert refused.status_code == 429

    wait_out(refused)
    assert log_in(platform.control_url, customer.email, PASSWORD, address).status_code == 200
    # the account has its free failures again (spent from a new address, as the old one has
    # failures of its own)
    fail_logins(platform.control_url, customer.email, fresh_address(), ACCOUNT_FAILURES)


def test_an_address_waits_after_failing_on_many_accounts(
    platform: PlatformThread, signup: SignUp
) -> None:
    customer = signup()
    address = fresh_address()
    for _ in range(ADDRESS_FAILURES):
        fail_logins(platform.control_url, unique_email("spray"), address, 1)

    refused = log_in(platform.control_url, unique_email("spray"), "guess", address)
    assert refused.status_code == 429
    assert "from your address" in refused.json()["error"]["message"]
    assert int(refused.headers["Retry-After"]) >= 1
    assert log_in(platform.control_url, customer.email, PASSWORD, address).status_code == 429
    # one address's throttle stays with it: the account is fine from anywhere else
    elsewhere = log_in(platform.control_url, customer.email, PASSWORD, fresh_address())
    assert elsewhere.status_code == 200


def test_successful_logins_do_not_count_against_an_address(
    platform: PlatformThread, signup: SignUp
) -> None:
    customer = signup()
    office = fresh_address()
    for _ in range(ADDRESS_FAILURES * 2):
        assert log_in(platform.control_url, customer.email, PASSWORD, office).status_code == 200


def test_refused_attempts_never_reach_argon2(platform: PlatformThread, signup: SignUp) -> None:
    customer = signup()
    address = fresh_address()
    fail_logins(platform.control_url, customer.email, address, ACCOUNT_FAILURES)
    assert platform.runtime is not None
    assert platform.runtime.platform is not None
    passwords = platform.runtime.platform.passwords
    before = passwords.operations
    for _ in range(5):
        refused = log_in(platform.control_url, customer.email, PASSWORD, address)
        assert refused.status_code == 429
    assert passwords.operations == before


def test_parallel_guesses_cannot_slip_past_the_limit(
    second_control_plane: PlatformThread, signup: SignUp
) -> None:
    customer = signup()
    burst = 10
    start = threading.Barrier(burst)

    def guess(attempt: int) -> httpx.Response:
        start.wait()
        return log_in(
            second_control_plane.control_url, customer.email, f"guess {attempt}", fresh_address()
        )

    with ThreadPoolExecutor(burst) as pool:
        responses = list(pool.map(guess, range(burst)))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [401] * ACCOUNT_FAILURES + [429] * (burst - ACCOUNT_FAILURES), [
        response.text for response in responses
    ]


def test_the_dashboard_login_form_is_throttled_too(
    platform: PlatformThread, signup: SignUp
) -> None:
    customer = signup()
    with DashboardUser(platform.control_url) as browser:
        browser.client.headers["X-Forwarded-For"] = fresh_address()
        for _ in range(ACCOUNT_FAILURES):
            wrong = browser.submit("/login", "/login", {"email": customer.email, "password": "x"})
            assert wrong.status_code == 401
        refused = browser.submit(
            "/login", "/login", {"email": customer.email, "password": PASSWORD}
        )
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("text/html")
    assert 1 <= int(refused.headers["Retry-After"]) <= FIRST_WAIT
    assert "too many failed logins for this account" in text_of(refused.text)
    assert "webhost_session" not in refused.cookies


@pytest.fixture(scope="module")
def second_control_plane(platform: PlatformThread) -> Iterator[PlatformThread]:
    """Another control-plane process on the session platform's database, with long waits."""
    settings = platform_settings(
        platform.control_database, platform.settings.data_dir, **SLOW_LOGIN_THROTTLE
    )
    running = PlatformThread(
        settings, Components(shared_plane=False, worker=False, supervisor=False)
    ).start()
    yield running
    running.stop()


def test_failures_counted_by_one_process_throttle_the_others(
    platform: PlatformThread, second_control_plane: PlatformThread, signup: SignUp
) -> None:
    customer = signup()
    address = fresh_address()
    for control_url in (platform.control_url, second_control_plane.control_url):
        fail_logins(control_url, customer.email, address, 1)
    fail_logins(platform.control_url, customer.email, address, ACCOUNT_FAILURES - 2)
    refused = log_in(second_control_plane.control_url, customer.email, PASSWORD, fresh_address())
    assert refused.status_code == 429

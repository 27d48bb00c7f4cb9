"""A burst of logins beyond the argon2 threads and their queue is answered 503 + Retry-After."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support.factories import PASSWORD, sign_up, unique_email
from tests.support.platform import PlatformThread, start_platform
from webhost.db.urls import PostgresURL
from webhost.runtime import Components

BURST = 8


@pytest.fixture(scope="module")
def one_thread_platform(
    postgres_server: PostgresURL, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PlatformThread]:
    """A control plane with one argon2 thread and no queue: a second concurrent check is shed."""
    running = start_platform(
        postgres_server,
        tmp_path_factory.mktemp("passwords"),
        "passwords",
        components=Components(shared_plane=False, worker=False, supervisor=False),
        password_hash_concurrency=1,
        password_hash_queue=0,
    )
    yield running
    running.stop()


def test_logins_beyond_the_password_threads_are_shed_with_retry_after(
    one_thread_platform: PlatformThread,
) -> None:
    customer = sign_up(one_thread_platform.control_url)
    customer.client.close()
    start = threading.Barrier(BURST)

    def log_in(attempt: int) -> httpx.Response:
        start.wait()
        return httpx.post(
            f"{one_thread_platform.control_url}/api/login",
            json={"email": unique_email("burst"), "password": f"wrong {attempt}"},
            # distinct accounts and addresses, so no login throttle plays a part
            headers={"X-Forwarded-For": f"198.51.100.{attempt + 1}"},
            timeout=30,
        )

    with ThreadPoolExecutor(BURST) as pool:
        responses = list(pool.map(log_in, range(BURST)))

    statuses = sorted(response.status_code for response in responses)
    assert set(statuses) == {401, 503}, statuses
    for response in responses:
        if response.status_code == 503:
            assert response.headers["Retry-After"] == "1"
            assert response.json()["error"]["code"] == "busy"
            assert "try again" in response.json()["error"]["message"]
    after = httpx.post(
        f"{one_thread_platform.control_url}/api/login",
        json={"email": customer.email, "password": PASSWORD},
        timeout=30,
    )
    assert after.status_code == 200, "once the burst is over, logins are checked again"

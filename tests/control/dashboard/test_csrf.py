"""Dashboard CSRF tokens are bound to the browser's session, or to a pre-session cookie the
server signed: no token the client makes up, or brings from another session, is accepted."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.dashboard import DashboardUser, csrf_from, text_of
from tests.support.factories import PASSWORD, sign_up, unique_email
from tests.support.logins import fresh_address
from tests.support.platform import PlatformThread
from webhost.security.signing import sign

URLSAFE = "[A-Za-z0-9_-]"
# pre-session cookies shaped like the real ones (id.issued.signature), signed by nobody
SHAPED_PRESESSIONS = st.builds(
    lambda presession, issued, signature: f"{presession}.{issued}.{signature}",
    st.from_regex(f"{URLSAFE}{{32}}", fullmatch=True),
    st.integers(int(time.time()) - 3600, int(time.time())),
    st.from_regex(f"{URLSAFE}{{43}}", fullmatch=True),
)
COOKIE_VALUES = st.one_of(SHAPED_PRESESSIONS, st.from_regex(f"{URLSAFE}{{0,80}}", fullmatch=True))
FIELDS = st.one_of(st.from_regex(f"{URLSAFE}{{43}}", fullmatch=True), st.text(max_size=80))
REFUSED = "this form has expired or was sent from another site"


def csrf_key(platform: PlatformThread) -> bytes:
    assert platform.runtime is not None
    assert platform.runtime.platform is not None
    return platform.runtime.platform.csrf_key


@settings(max_examples=30, deadline=None)
@given(cookie=COOKIE_VALUES, field=FIELDS, double_submit=st.booleans())
def test_made_up_cookie_and_token_pairs_are_refused(
    platform: PlatformThread, cookie: str, field: str, double_submit: bool
) -> None:
    token = cookie if double_submit else field
    with httpx.Client(base_url=platform.control_url, timeout=30) as client:
        client.cookies.set("webhost_presession", cookie)
        # the double-submit cookie of old means nothing any more
        client.cookies.set("webhost_csrf", cookie)
        response = client.post(
            "/login",
            data={"csrf_token": token, "email": unique_email("forger"), "password": PASSWORD},
        )
    assert response.status_code == 403
    assert REFUSED in text_of(response.text)


@pytest.fixture(scope="module")
def logged_in(platform: PlatformThread) -> Iterator[DashboardUser]:
    with DashboardUser(platform.control_url) as browser:
        browser.sign_up()
        yield browser


@settings(max_examples=20, deadline=None)
@given(header=st.from_regex(r"[!-~]{1,60}", fullmatch=True), field=FIELDS)
def test_made_up_tokens_never_change_a_logged_in_dashboard(
    logged_in: DashboardUser, header: str, field: str
) -> None:
    page = logged_in.dashboard()
    real = csrf_from(page)
    if real in (header, field):
        return
    by_header = logged_in.htmx_post("/dashboard/keys", {"name": "forged"}, csrf=header)
    by_field = logged_in.client.post(
        "/dashboard/keys", data={"name": "forged", "csrf_token": field}
    )
    assert by_header.status_code == by_field.status_code == 403
    assert "forged" not in logged_in.dashboard()


def test_a_token_from_another_session_is_refused(platform: PlatformThread) -> None:
    with DashboardUser(platform.control_url) as alice, DashboardUser(platform.control_url) as eve:
        alice.sign_up()
        eve.sign_up()
        alice_token = csrf_from(alice.dashboard())
        eve_token = csrf_from(eve.dashboard())
        assert alice_token != eve_token

        refused = alice.client.post("/logout", data={"csrf_token": eve_token})
        assert refused.status_code == 403
        assert REFUSED in text_of(refused.text)
        assert alice.htmx_post("/dashboard/keys", {"name": "x"}, csrf=eve_token).status_code == 403
        assert alice.get("/dashboard").status_code == 200, "still logged in"

        assert alice.client.post("/logout", data={"csrf_token": alice_token}).status_code == 303


def test_a_logged_in_token_is_the_same_on_every_page_of_the_session(
    platform: PlatformThread,
) -> None:
    with DashboardUser(platform.control_url) as browser:
        browser.sign_up()
        first, second = csrf_from(browser.dashboard()), csrf_from(browser.dashboard())
    assert first == second, "htmx keeps the token of the page it was loaded with"


def test_the_anonymous_token_dies_at_login(platform: PlatformThread) -> None:
    customer = sign_up(platform.control_url)
    customer.client.close()
    with DashboardUser(platform.control_url) as browser:
        browser.client.headers["X-Forwarded-For"] = fresh_address()
        anonymous = csrf_from(browser.get("/login").text)
        assert "webhost_presession" in browser.client.cookies
        logged_in = browser.client.post(
            "/login",
            data={"csrf_token": anonymous, "email": customer.email, "password": PASSWORD},
        )
        assert logged_in.status_code == 303
        assert "webhost_presession" not in browser.client.cookies

        refused = browser.client.post("/logout", data={"csrf_token": anonymous})
        assert refused.status_code == 403
        assert browser.get("/dashboard").status_code == 200


def test_a_signed_presession_is_honoured_for_a_day(platform: PlatformThread) -> None:
    key = csrf_key(platform)
    presession = "P" * 32

    def attempt(issued: int) -> httpx.Response:
        cookie = f"{presession}.{issued}.{sign(key, 'presession', presession, str(issued))}"
        with httpx.Client(base_url=platform.control_url, timeout=30) as client:
            client.cookies.set("webhost_presession", cookie)
            return client.post(
                "/login",
                data={
                    "csrf_token": sign(key, "anonymous", presession),
                    "email": unique_email("nobody"),
                    "password": "not a real password",
                },
                headers={"X-Forwarded-For": fresh_address()},
            )

    # a pair the server signed passes the check; the login itself then fails as it should
    assert attempt(int(time.time()) - 3600).status_code == 401
    expired = attempt(int(time.time()) - 2 * 86400)
    assert expired.status_code == 403
    assert REFUSED in text_of(expired.text)

"""The JSON API authenticates with the Authorization header only, never the dashboard's cookie."""

from __future__ import annotations

import httpx

from tests.support.clients import api_client
from tests.support.dashboard import DashboardUser
from tests.support.platform import PlatformThread

COOKIE_REFUSED = "the API does not accept the dashboard's session cookie"


def test_cookie_only_api_calls_are_refused(platform: PlatformThread) -> None:
    with DashboardUser(platform.control_url) as browser:
        browser.sign_up()
        session = browser.client.cookies["webhost_session"]

        # what a page on another site can make the browser send: the cookie, no header
        forged = [
            httpx.post(
                f"{platform.control_url}/api/keys",
                json={"name": "planted"},
                cookies={"webhost_session": session},
            ),
            httpx.post(f"{platform.control_url}/api/logout", cookies={"webhost_session": session}),
            httpx.get(f"{platform.control_url}/api/me", cookies={"webhost_session": session}),
        ]
        for response in forged:
            assert response.status_code == 401, response.text
            assert response.json()["error"]["code"] == "unauthorized"
            assert COOKIE_REFUSED in response.json()["error"]["message"]
            assert session not in response.text

        assert browser.get("/dashboard").status_code == 200, "the session is still alive"
    with api_client(platform.control_url, session) as api:
        assert api.get("/api/keys").json() == [], "no key was created"
        assert api.post("/api/logout").status_code == 204, "the header works as before"

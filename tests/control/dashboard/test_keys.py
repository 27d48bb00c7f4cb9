"""API keys through the dashboard: shown once, working at once, revocable at once."""

from __future__ import annotations

import re

import httpx

from tests.support.clients import api_client
from tests.support.dashboard import DashboardUser, csrf_from, text_of
from tests.support.platform import PlatformThread
from tests.support.polling import wait_until


def active_dashboard(browser: DashboardUser) -> str:
    def active() -> str | None:
        page = browser.dashboard()
        return page if 'data-status="active"' in page else None

    page: str = wait_until(active, timeout=90, message="deployment active on the dashboard")
    return page


def urls_in(page: str) -> tuple[str, str]:
    api = re.search(r'id="api-url-[^"]+">([^<]+)<', page)
    sync = re.search(r'id="sync-url-[^"]+">([^<]+)<', page)
    assert api
    assert sync
    return api.group(1), sync.group(1)


def test_a_key_created_on_the_dashboard_is_shown_once_and_works(
    platform: PlatformThread,
) -> None:
    with DashboardUser(platform.control_url) as browser:
        browser.sign_up()
        page = active_dashboard(browser)
        api_url, sync_url = urls_in(page)
        quick_start = page.replace("&#39;", "'").replace("&#34;", '"')
        assert f"const syncUrl = '{sync_url}'" in quick_start
        assert "new WebsocketProvider(syncUrl + '/yjs', 'my-document', doc" in quick_start
        assert f"curl -X PUT {api_url}/v1/collections/posts " in quick_start
        assert '{"schema": "++id, title, authorId, updatedAt"}' in quick_start
        assert f"curl -X POST {api_url}/v1/collections/posts/records " in quick_start
        assert f'"{api_url}/v1/collections/posts/records?title=eq.Hello"' in quick_start
        assert "API_KEY=YOUR_API_KEY" in quick_start
        assert f"apiUrl: '{api_url}'," in quick_start
        assert f"syncUrl: '{sync_url}'," in quick_start
        assert "apiKey: 'YOUR_API_KEY'," in quick_start

        response, full_key = browser.create_key("mobile app")
        assert response.status_code == 201
        assert full_key is not None
        assert full_key.startswith("whs_live_")
        assert "will not be shown again" in text_of(response.text)
        assert f"const API_KEY = '{full_key}'" in response.text.replace("&#39;", "'")
        assert f"apiKey: '{full_key}'," in response.text.replace("&#39;", "'")
        assert 'hx-swap-oob="true"' in response.text, "the key list is refreshed too"

        with api_client(api_url, full_key) as data:
            assert data.get("/v1/collections").status_code == 200

        later = browser.dashboard()
        prefix = full_key.rsplit("_", 1)[0]
        assert prefix in later
        assert full_key not in later
        assert "mobile app" in later


def test_revoking_on_the_dashboard_locks_the_key_out(platform: PlatformThread) -> None:
    with DashboardUser(platform.control_url) as browser:
        browser.sign_up()
        api_url, _ = urls_in(active_dashboard(browser))
        _, full_key = browser.create_key("to revoke")
        assert full_key is not None
        page = browser.dashboard()
        key_id = re.search(r'id="key-([0-9a-f-]{36})"', page)
        organization = re.search(r'name="organization_id" value="([^"]+)"', page)
        assert key_id
        assert organization

        row = browser.htmx_post(
            f"/dashboard/keys/{key_id.group(1)}/revoke",
            {"organization_id": organization.group(1)},
            csrf=csrf_from(page),
        )
        assert row.status_code == 200
        assert row.text.lstrip().startswith(f'<tr id="key-{key_id.group(1)}"')
        assert "revoked" in text_of(row.text)
        assert "hx-post" not in row.text, "a revoked key has no revoke button"

    with api_client(api_url, full_key) as data:
        assert data.get("/v1/collections").status_code == 401


def test_a_key_form_error_is_shown_in_place(platform: PlatformThread) -> None:
    with DashboardUser(platform.control_url) as browser:
        browser.sign_up()
        response, full_key = browser.create_key("x" * 101)
    assert response.status_code == 422
    assert full_key is None
    assert "name" in text_of(response.text)
    assert "alert" in response.text


def test_keys_of_another_organization_cannot_be_revoked(platform: PlatformThread) -> None:
    with DashboardUser(platform.control_url) as owner, DashboardUser(platform.control_url) as other:
        owner.sign_up()
        owner.create_key("owner's")
        key_id = re.search(r'id="key-([0-9a-f-]{36})"', owner.dashboard())
        assert key_id
        other.sign_up()
        page = other.dashboard()
        response = other.htmx_post(
            f"/dashboard/keys/{key_id.group(1)}/revoke", {}, csrf=csrf_from(page)
        )
        assert response.status_code == 404
        assert response.headers["HX-Retarget"] == "#flash"
        row = re.search(rf'<tr id="key-{key_id.group(1)}".*?</tr>', owner.dashboard(), re.S)
        assert row
        assert "badge-active" in row.group(0)


def test_state_changes_without_the_csrf_token_are_refused(platform: PlatformThread) -> None:
    with DashboardUser(platform.control_url) as browser:
        browser.sign_up()
        page = browser.dashboard()
        session = browser.client.cookies["webhost_session"]

        missing = browser.htmx_post("/dashboard/keys", {"name": "forged"})
        assert missing.status_code == 403
        wrong = browser.htmx_post("/dashboard/keys", {"name": "forged"}, csrf="x" * 43)
        assert wrong.status_code == 403
        plain_form = browser.client.post(
            "/dashboard/keys", data={"name": "forged", "csrf_token": "y" * 43}
        )
        assert plain_form.status_code == 403
        assert "another site" in text_of(plain_form.text)
        assert "forged" not in browser.dashboard()

        # another site can make the browser send its cookies, but cannot read the token
        cross_site = httpx.post(
            f"{platform.control_url}/logout", cookies={"webhost_session": session}
        )
        assert cross_site.status_code == 403
        assert browser.get("/dashboard").status_code == 200

        with api_client(platform.control_url, session) as api:
            assert api.get("/api/keys").json() == []
        # the token lives in the page only: a logged-in browser holds no CSRF cookie at all
        assert csrf_from(page) not in browser.client.cookies.values()
        assert set(browser.client.cookies) == {"webhost_session"}

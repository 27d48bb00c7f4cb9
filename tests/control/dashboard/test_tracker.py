"""The tracker URL for phones on the dashboard: shown with its set-up, replaced on demand."""

from __future__ import annotations

import re

from tests.control.dashboard.test_keys import active_dashboard, urls_in
from tests.support.clients import api_client
from tests.support.dashboard import DashboardUser, csrf_from, read_until, sse_path, text_of
from tests.support.gates import release
from tests.support.platform import PlatformThread

_TRACKER_URL = re.compile(r'<code id="osmand-url-([0-9a-f-]{36})">([^<]+)</code>')


def tracker_url(page: str) -> str | None:
    found = _TRACKER_URL.search(page)
    if found is None:
        return None
    assert f'data-copy="#osmand-url-{found.group(1)}"' in page, "it has a copy button"
    return found.group(2)


def prefix_in(url: str) -> str:
    return url.rsplit("/", 1)[1].rsplit("_", 1)[0]


def organization_of(page: str) -> str:
    found = re.search(r'name="organization_id" value="([^"]+)"', page)
    assert found
    return found.group(1)


def key_row(page: str, prefix: str) -> str:
    found = re.search(rf'<tr id="key-[^"]+"[^>]*>(?:(?!</tr>).)*{prefix}_.*?</tr>', page, re.S)
    assert found, f"no key row for {prefix}"
    return found.group(0)


def test_the_tracker_url_appears_with_the_first_key_and_its_set_up(
    platform: PlatformThread,
) -> None:
    with DashboardUser(platform.control_url) as browser:
        browser.sign_up()
        page = active_dashboard(browser)
        api_url, _ = urls_in(page)
        assert tracker_url(page) is None
        assert "appears here once the organization has an API key" in text_of(page)
        assert "New device key" not in page

        response, full_key = browser.create_key("backend")
        assert full_key is not None
        # the key's response refreshes the deployment too: no reload needed
        assert 'hx-swap-oob="innerHTML"' in response.text
        url = tracker_url(response.text)
        assert url is not None
        assert url.startswith(f"{api_url}/v1/fleet/osmand/whs_live_")

        page = browser.dashboard()
        assert tracker_url(page) == url
        text = text_of(page)
        for step in ("Traccar Client", "Server URL", "Device identifier", "Interval"):
            assert step in text
        assert "vehicle limit" in text
        device_row = key_row(page, prefix_in(url))
        assert "Devices (OsmAnd)" in device_row
        assert "ingest (devices)" in device_row
        assert "full" in text_of(key_row(page, full_key.rsplit("_", 1)[0]))
        assert "New device key" in page

    with api_client(platform.control_url, browser.client.cookies["webhost_session"]) as api:
        deployment = api.get("/api/deployments").json()[0]
    assert deployment["osmand_url"] == url


def test_new_device_key_replaces_the_url_and_revokes_the_old_key(
    platform: PlatformThread,
) -> None:
    with DashboardUser(platform.control_url) as browser:
        browser.sign_up()
        active_dashboard(browser)
        browser.create_key("backend")
        page = browser.dashboard()
        old_url = tracker_url(page)
        assert old_url is not None
        old_prefix = prefix_in(old_url)

        replaced = browser.htmx_post(
            "/dashboard/keys/device",
            {"organization_id": organization_of(page)},
            csrf=csrf_from(page),
        )
        assert replaced.status_code == 204
        assert replaced.headers["HX-Redirect"].startswith("/dashboard")
        page = browser.dashboard()
        new_url = tracker_url(page)
        assert new_url is not None
        assert new_url != old_url
        assert "revoked" in text_of(key_row(page, old_prefix))

        # revoking it by hand works like any key; the page shows the next one
        device_id = re.search(r'<tr id="key-([0-9a-f-]{36})"', key_row(page, prefix_in(new_url)))
        assert device_id
        revoked = browser.htmx_post(
            f"/dashboard/keys/{device_id.group(1)}/revoke",
            {"organization_id": organization_of(page)},
            csrf=csrf_from(page),
        )
        assert revoked.status_code == 204
        assert revoked.headers["HX-Redirect"].startswith("/dashboard")
        after = tracker_url(browser.dashboard())
        assert after is not None
        assert after not in (old_url, new_url)

    for dead in (old_url, new_url):
        api, key = dead.split("/v1/fleet/osmand/")
        with api_client(api, key) as data:
            assert data.get("/v1/collections").status_code == 401


def test_a_plain_form_replaces_the_device_key_too(platform: PlatformThread) -> None:
    with DashboardUser(platform.control_url) as browser:
        browser.sign_up()
        active_dashboard(browser)
        browser.create_key("backend")
        page = browser.dashboard()
        old_url = tracker_url(page)
        response = browser.client.post(
            "/dashboard/keys/device",
            data={"csrf_token": csrf_from(page), "organization_id": organization_of(page)},
        )
        assert response.status_code == 303
        assert tracker_url(browser.dashboard()) not in (None, old_url)


def test_the_device_key_of_another_organization_is_out_of_reach(
    platform: PlatformThread,
) -> None:
    with DashboardUser(platform.control_url) as owner, DashboardUser(platform.control_url) as other:
        owner.sign_up()
        active_dashboard(owner)
        owner.create_key("backend")
        owner_page = owner.dashboard()
        url = tracker_url(owner_page)
        assert url is not None

        other.sign_up()
        page = other.dashboard()
        refused = other.htmx_post(
            "/dashboard/keys/device",
            {"organization_id": organization_of(owner_page)},
            csrf=csrf_from(page),
        )
        assert refused.status_code == 403
        assert tracker_url(owner.dashboard()) == url
        assert url not in other.dashboard()
        # their own organization has no key yet, so nothing to replace
        own = other.htmx_post(
            "/dashboard/keys/device",
            {"organization_id": organization_of(page)},
            csrf=csrf_from(page),
        )
        assert own.status_code == 409
        assert own.headers["HX-Retarget"] == "#flash"
        assert "API key first" in text_of(own.text)


def test_a_key_made_while_provisioning_brings_the_url_live_on_activation(
    gated_platform: PlatformThread,
) -> None:
    with DashboardUser(gated_platform.control_url) as browser:
        browser.sign_up()
        page = browser.dashboard()
        path = sse_path(page)
        assert path is not None
        _, full_key = browser.create_key("early")
        assert full_key is not None
        with browser.event_stream(path) as stream:
            read_until(stream, "status")
            release(gated_platform, path.split("/")[3])
            events = read_until(stream, "done")
        final = events[-2].data
        url = tracker_url(final)
        assert url is not None
        api_url = gated_platform.deployment_url(path.split("/")[3])
        assert url.startswith(f"{api_url}/v1/fleet/osmand/whs_live_")
        assert tracker_url(browser.dashboard()) == url

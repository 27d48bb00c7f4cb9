"""The deployment status follows provisioning live, over server-sent events."""

from __future__ import annotations

import httpx

from tests.support.dashboard import DashboardUser, read_until, sse_path, status_in, text_of
from tests.support.gates import release
from tests.support.platform import PlatformThread


def test_the_stream_delivers_provisioning_then_active_with_urls(
    gated_platform: PlatformThread,
) -> None:
    with DashboardUser(gated_platform.control_url) as browser:
        browser.sign_up()
        page = browser.dashboard()
        assert 'data-status="provisioning"' in page
        path = sse_path(page)
        assert path is not None, "a provisioning deployment is followed live"
        deployment_id = path.split("/")[3]

        with browser.event_stream(path) as stream:
            first = read_until(stream, "status")[-1].data
            assert status_in(first) == "provisioning"
            # the steps are streamed as they progress, up to the one holding the deployment
            latest = first
            while "awaiting release running" not in text_of(latest):
                latest = read_until(stream, "status")[-1].data
                assert status_in(latest) == "provisioning"
            assert "tenant schema done" in text_of(latest)

            release(gated_platform, deployment_id)
            events = read_until(stream, "done")
        assert [status_in(e.data) for e in events if e.event == "status"][-1] == "active"
        assert events[-1].data == "active"
        final = events[-2].data
        api_url = gated_platform.deployment_url(deployment_id)
        assert api_url in final
        assert "ws" + api_url.removeprefix("http") in final
        assert "YOUR_API_KEY" in final
        assert "awaiting release done" in text_of(final)

        after = browser.dashboard()
        assert sse_path(after) is None, "a finished deployment is not streamed"
        assert 'data-status="active"' in after


def test_the_status_fragment_is_served_for_the_first_render(
    gated_platform: PlatformThread,
) -> None:
    with DashboardUser(gated_platform.control_url) as browser:
        browser.sign_up()
        deployment_id = browser.deployment_id()
        fragment = browser.get(
            f"/dashboard/deployments/{deployment_id}/status", headers={"HX-Request": "true"}
        )
        assert fragment.status_code == 200
        assert status_in(fragment.text) == "provisioning"
        assert "<html" not in fragment.text
        release(gated_platform, deployment_id)


def test_other_accounts_cannot_follow_a_deployment(gated_platform: PlatformThread) -> None:
    with (
        DashboardUser(gated_platform.control_url) as owner,
        DashboardUser(gated_platform.control_url) as stranger,
    ):
        owner.sign_up()
        deployment_id = owner.deployment_id()
        stranger.sign_up()
        assert stranger.get(f"/dashboard/deployments/{deployment_id}/status").status_code == 404
        events = stranger.get(
            f"/dashboard/deployments/{deployment_id}/events",
            headers={"Accept": "text/event-stream"},
        )
        assert events.status_code == 404
        anonymous = httpx.get(
            f"{gated_platform.control_url}/dashboard/deployments/{deployment_id}/events",
            headers={"Accept": "text/event-stream"},
        )
        assert anonymous.status_code == 401
        release(gated_platform, deployment_id)


def test_the_stream_ends_when_the_session_is_revoked(gated_platform: PlatformThread) -> None:
    with DashboardUser(gated_platform.control_url) as browser:
        browser.sign_up()
        path = sse_path(browser.dashboard())
        assert path is not None
        with browser.event_stream(path) as stream:
            assert status_in(read_until(stream, "status")[-1].data) == "provisioning"
            session = browser.client.cookies["webhost_session"]
            logout = httpx.post(
                f"{gated_platform.control_url}/api/logout",
                headers={"Authorization": f"Bearer {session}"},
            )
            assert logout.status_code == 204
            assert read_until(stream, "done")[-1].data == "gone"
        release(gated_platform, path.split("/")[3])

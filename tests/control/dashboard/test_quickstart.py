"""The dashboard's SDK quick start, run as a customer would paste it: the record it writes
reaches the deployment."""

from __future__ import annotations

import html
import re

from tests.control.dashboard.test_keys import active_dashboard, urls_in
from tests.support.clients import api_client
from tests.support.dashboard import DashboardUser
from tests.support.platform import PlatformThread
from tests.support.polling import wait_until
from tests.support.sdk import needs_sdk, run_sdk_program


def sdk_snippet(page: str) -> str:
    found = re.search(r'<code id="sdk-new-[^"]+">(.*?)</code>', page, re.DOTALL)
    assert found, "no SDK snippet next to the new key"
    return html.unescape(found.group(1))


@needs_sdk
def test_the_sdk_quick_start_runs_against_the_deployment(platform: PlatformThread) -> None:
    with DashboardUser(platform.control_url) as browser:
        browser.sign_up()
        api_url, _sync_url = urls_in(active_dashboard(browser))
        response, full_key = browser.create_key("quick start")
        assert full_key is not None
        snippet = sdk_snippet(response.text)
    assert full_key in snippet
    # the app ends once its write is pushed
    ran = run_sdk_program("\n".join([snippet, "await client.sync()", "await client.close()"]))
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert "sync: synced" in ran.stdout
    with api_client(api_url, full_key) as data:
        todos = wait_until(
            lambda: data.get("/v1/collections/todos/records").json(), message="the todo"
        )
        assert [todo["title"] for todo in todos] == ["Hello from WebHost"]
        assert todos[0]["done"] is False

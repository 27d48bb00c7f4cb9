"""The dashboard in a real browser: live status without reloading, keys through htmx."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.factories import PASSWORD, unique_email
from tests.support.gates import release
from tests.support.platform import PlatformThread

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian chromium at /usr/bin/chromium (apt-get install chromium)",
    ),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    opened = context.new_page()
    yield opened
    context.close()


def test_signup_goes_live_and_a_key_is_created_without_reloading(
    gated_platform: PlatformThread, page: Page
) -> None:
    from playwright.sync_api import expect

    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(gated_platform.control_url)
    page.get_by_role("link", name="Sign up for Hobby").click()
    expect(page.locator("select[name=plan]")).to_have_value("hobby")
    page.get_by_label("Your name").fill("Katherine Johnson")
    page.get_by_label("Organization").fill("Trajectories")
    page.get_by_label("Email").fill(unique_email("browser"))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account and deploy").click()

    page.wait_for_url(re.compile(r"/dashboard$"))
    badge = page.locator(".deployment-status [data-status]")
    expect(badge).to_have_text("provisioning")
    page.evaluate("window.stillTheSamePage = true")

    article_id = page.locator("article.deployment").get_attribute("id")
    assert article_id is not None
    deployment_id = article_id.removeprefix("deployment-")
    release(gated_platform, deployment_id)

    expect(badge).to_have_text("active", timeout=60_000)
    expect(page.locator(".deployment-status dl.urls")).to_contain_text(
        gated_platform.deployment_url(deployment_id)
    )
    assert page.evaluate("window.stillTheSamePage") is True, "the page must not reload"

    page.get_by_label("Key name").fill("web app")
    page.get_by_role("button", name="Create key").click()
    new_key = page.locator("#new-key-value")
    expect(new_key).to_have_text(re.compile(r"^whs_live_\w+$"))
    expect(page.locator("#key-created")).to_contain_text("will not be shown again")
    expect(page.locator("#key-list")).to_contain_text("web app")
    assert page.evaluate("window.stillTheSamePage") is True, "htmx swaps, no form post"

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#key-list tr", has_text="web app").get_by_role("button", name="Revoke").click()
    expect(page.locator("#key-list tr.revoked")).to_contain_text("web app")

    assert problems == [], "the page logged errors (CSP violations included)"


def test_the_tracker_url_comes_with_the_first_key_and_a_new_device_key_replaces_it(
    gated_platform: PlatformThread, page: Page
) -> None:
    from playwright.sync_api import expect

    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])

    page.goto(gated_platform.control_url + "/signup?plan=hobby")
    page.get_by_label("Your name").fill("Mary Jackson")
    page.get_by_label("Organization").fill("Wind Tunnels")
    page.get_by_label("Email").fill(unique_email("tracker"))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account and deploy").click()
    page.wait_for_url(re.compile(r"/dashboard$"))
    article_id = page.locator("article.deployment").get_attribute("id")
    assert article_id is not None
    deployment_id = article_id.removeprefix("deployment-")
    release(gated_platform, deployment_id)
    expect(page.locator(".deployment-status [data-status]")).to_have_text("active", timeout=60_000)
    setup = page.locator(".phone-setup")
    expect(setup).to_contain_text("once the organization has an API key")
    page.evaluate("window.stillTheSamePage = true")

    page.get_by_label("Key name").fill("backend")
    page.get_by_role("button", name="Create key").click()
    tracker = page.locator("code[id^=osmand-url-]")
    prefix = f"{gated_platform.deployment_url(deployment_id)}/v1/fleet/osmand/"
    expect(tracker).to_have_text(re.compile("^" + re.escape(prefix) + r"whs_live_\w+$"))
    assert page.evaluate("window.stillTheSamePage") is True, "shown without reloading"
    first_url = tracker.inner_text()

    copy = page.locator("button[data-copy^='#osmand-url-']")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == first_url
    setup.locator("summary").click()
    expect(setup).to_contain_text("Device identifier")
    expect(page.locator("#key-list")).to_contain_text("ingest (devices)")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="New device key").click()
    expect(tracker).not_to_have_text(first_url)
    expect(tracker).to_have_text(re.compile("^" + re.escape(prefix) + r"whs_live_\w+$"))
    expect(page.locator("#key-list tr.revoked")).to_contain_text("Devices (OsmAnd)")

    assert problems == [], "the page logged errors (CSP violations included)"

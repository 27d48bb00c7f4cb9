"""The fleet map in a real browser: vehicles, geofences, live positions and a track, drawn from
the deployment's data plane with a pasted key, under the page's CSP, on the offline grid."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.control.dashboard.test_browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.clients import api_client
from tests.support.factories import PASSWORD, Customer, create_key
from tests.support.platform import PlatformThread, wait_for_deployment

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium"),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def positions(vehicle: str, start: datetime, places: list[tuple[float, float]]) -> list[Any]:
    return [
        {
            "vehicle": vehicle,
            "time": (start + timedelta(seconds=30 * n)).isoformat().replace("+00:00", "Z"),
            "latitude": lat,
            "longitude": lon,
            "speed": 40,
        }
        for n, (lat, lon) in enumerate(places)
    ]


def send(data: httpx.Client, points: list[Any]) -> None:
    answer = data.post("/v1/fleet/positions", json=points)
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == len(points)


def test_the_fleet_map_shows_vehicles_geofences_live_moves_and_tracks(
    platform: PlatformThread, signup: Callable[..., Customer], browser: Browser
) -> None:
    from playwright.sync_api import expect

    customer = signup("hobby")
    deployment = wait_for_deployment(customer.client, customer.deployment["id"])
    key = create_key(customer)["key"]
    start = datetime.now(UTC) - timedelta(minutes=30)
    with api_client(deployment["api_url"], key) as data:
        fence = data.post(
            "/v1/fleet/geofences",
            json={"name": "depot", "center": [13.40, 52.52], "radius_m": 300},
        )
        assert fence.status_code == 201, fence.text
        send(data, positions("truck-1", start, [(52.50, 13.38), (52.51, 13.39), (52.52, 13.40)]))
        send(data, positions("van-2", start, [(52.54, 13.42)]))

        context = browser.new_context()
        page: Page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(platform.control_url + "/login")
        page.get_by_label("Email").fill(customer.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name=re.compile("Log in", re.I)).click()
        page.wait_for_url(re.compile(r"/dashboard"))
        page.get_by_role("link", name="Fleet map").click()
        page.wait_for_url(re.compile(r"/fleet$"))

        page.get_by_label("API key of this deployment").fill(key)
        page.get_by_role("button", name="Show the fleet").click()
        fleet = page.locator("#fleet")
        expect(fleet).to_have_attribute("data-ready", "true", timeout=20_000)
        expect(fleet).to_have_attribute("data-basemap", "grid")  # no tiles configured
        expect(fleet).to_have_attribute("data-geofences", "1")
        expect(page.locator("#fleet-vehicles li")).to_have_count(2)
        expect(page.locator("#fleet-status")).to_have_text("2 vehicles")
        expect(page.locator("path.leaflet-interactive")).to_have_count(3)  # 2 markers, 1 circle
        expect(fleet).to_have_attribute("data-live", "open", timeout=20_000)

        # a position stored now reaches the open page without reloading
        page.evaluate("window.stillTheSamePage = true")
        send(data, positions("bike-3", datetime.now(UTC) - timedelta(seconds=5), [(52.53, 13.41)]))
        expect(page.locator("#fleet-vehicles li", has_text="bike-3")).to_be_visible(timeout=20_000)
        assert page.evaluate("window.stillTheSamePage") is True

        page.locator("#fleet-vehicles li", has_text="truck-1").get_by_role("button").click()
        expect(fleet).to_have_attribute("data-track", "truck-1:3", timeout=20_000)
        expect(page.locator("#fleet-status")).to_contain_text("Track of truck-1: 3 points")

        # the key stays in the tab: a reload shows the fleet without asking again
        page.reload()
        expect(fleet).to_have_attribute("data-ready", "true", timeout=20_000)
        expect(page.locator("#fleet-key-form")).to_be_hidden()
        context.close()
    assert problems == [], "the page logged errors (CSP violations included)"


def test_a_wrong_key_is_refused_and_asked_for_again(
    platform: PlatformThread, signup: Callable[..., Customer], browser: Browser
) -> None:
    from playwright.sync_api import expect

    customer = signup("hobby")
    wait_for_deployment(customer.client, customer.deployment["id"])
    create_key(customer)
    context = browser.new_context()
    page = context.new_page()
    page.goto(platform.control_url + "/login")
    page.get_by_label("Email").fill(customer.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Log in", re.I)).click()
    page.wait_for_url(re.compile(r"/dashboard"))
    page.get_by_role("link", name="Fleet map").click()
    page.get_by_label("API key of this deployment").fill("whs_live_AAAAAAAAAAAA_" + "B" * 32)
    page.get_by_role("button", name="Show the fleet").click()
    expect(page.locator("#fleet-status")).to_contain_text("Could not load the fleet")
    expect(page.locator("#fleet-key-form")).to_be_visible()
    context.close()

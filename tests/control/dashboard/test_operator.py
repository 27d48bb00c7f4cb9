"""The operator's page, reached through the one-time link `webhost up` prints."""

from __future__ import annotations

import httpx

from tests.support.dashboard import DashboardUser, text_of
from tests.support.factories import operator_client, operator_login_link
from tests.support.platform import PlatformThread


def test_the_login_link_opens_the_operator_page(platform: PlatformThread) -> None:
    with DashboardUser(platform.control_url) as customer:
        customer.sign_up(organization="Fleet Watchers")
    link = operator_login_link(platform)
    with httpx.Client(timeout=30) as browser:
        response = browser.get(link)
        assert response.status_code == 303
        assert response.headers["location"] == "/operator"
        page = browser.get(f"{platform.control_url}/operator")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Fleet Watchers" in text
    assert "hobby" in text
    assert "shared" in text
    assert "Plan catalog" in text
    for figure in ("$15/month", "$149/month", "nbg1", "iad, fra, sin", "730 days", "500"):
        assert figure in text


def test_operators_land_on_their_page(platform: PlatformThread) -> None:
    with operator_client(platform) as operator:
        assert operator.get("/").headers["location"] == "/operator"
        assert operator.get("/dashboard").headers["location"] == "/operator"


def test_a_used_link_gets_a_friendly_401(platform: PlatformThread) -> None:
    link = operator_login_link(platform)
    assert httpx.get(link).status_code == 303
    again = httpx.get(link)
    assert again.status_code == 401
    assert again.headers["content-type"].startswith("text/html")
    assert "already used or has expired" in text_of(again.text)
    assert "webhost operator-login" in again.text
    assert "webhost_session" not in again.cookies
    assert httpx.get(f"{platform.control_url}/login/once/whs_once_made-up").status_code == 401


def test_customers_get_403_on_the_operator_page(platform: PlatformThread) -> None:
    with DashboardUser(platform.control_url) as customer:
        customer.sign_up()
        response = customer.get("/operator")
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "operator" in text_of(response.text)

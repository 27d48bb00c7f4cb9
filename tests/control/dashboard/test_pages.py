"""Landing, signup, login and logout through the browser forms."""

from __future__ import annotations

import re

import httpx

from tests.support.dashboard import DashboardUser, csrf_from, text_of
from tests.support.factories import PASSWORD, unique_email
from tests.support.platform import PlatformThread
from tests.support.polling import wait_until


def test_the_landing_page_shows_the_plan_catalog(platform: PlatformThread) -> None:
    with DashboardUser(platform.control_url) as browser:
        response = browser.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    text = text_of(response.text)
    assert "Offline-first" in text
    for name, price in [("Hobby", "$15"), ("Starter", "$49"), ("Business", "$399")]:
        assert name in text
        assert price in text
    assert "shared" in text
    assert "dedicated" in text
    assert "30 days" in text
    assert "nbg1" in text
    assert 'href="/signup?plan=starter"' in response.text
    assert "/static/vendor/htmx.min.js" in response.text
    assert "https://" not in response.text.split("<body")[0], "assets must be served locally"


def test_static_assets_are_served(platform: PlatformThread) -> None:
    with DashboardUser(platform.control_url) as browser:
        htmx = browser.get("/static/vendor/htmx.min.js")
        sse = browser.get("/static/vendor/htmx-ext-sse.js")
        css = browser.get("/static/dashboard.css")
    assert htmx.status_code == sse.status_code == css.status_code == 200
    assert "htmx" in htmx.text
    assert "defineExtension('sse'" in sse.text
    assert css.headers["content-type"].startswith("text/css")


def test_the_signup_form_preselects_the_plan_from_the_link(platform: PlatformThread) -> None:
    with DashboardUser(platform.control_url) as browser:
        page = browser.get("/signup?plan=professional").text
    assert '<option value="professional" selected>' in page
    assert re.search(r'<option value="hobby"\s*>', page), "only the chosen plan is selected"


def test_signing_up_sets_the_session_cookie_and_shows_the_deployment(
    platform: PlatformThread,
) -> None:
    with DashboardUser(platform.control_url) as browser:
        response = browser.sign_up("hobby", organization="Harvard Mark I")
        assert response.status_code == 303
        assert response.headers["location"] == "/dashboard"
        cookie = next(
            header
            for header in response.headers.get_list("set-cookie")
            if header.startswith("webhost_session=")
        )
        attributes = {part.strip().lower() for part in cookie.split(";")}
        assert {"httponly", "path=/", "samesite=lax"} <= attributes
        assert "secure" not in attributes  # plain http here; https requests get Secure

        text = text_of(browser.dashboard())
    assert "Harvard Mark I" in text
    assert "hobby" in text
    assert "shared" in text
    assert "nbg1" in text
    assert "provisioning" in text or "active" in text


def test_cookies_are_secure_behind_an_https_proxy(platform: PlatformThread) -> None:
    with DashboardUser(platform.control_url) as browser:
        # uvicorn trusts X-Forwarded-Proto from a local proxy, as a TLS terminator would send it
        browser.client.headers["X-Forwarded-Proto"] = "https"
        form = browser.get("/signup")
        presession = form.headers["set-cookie"]
        assert presession.startswith("webhost_presession=")
        assert "secure" in presession.lower().split("; ")
        # the client speaks plain http to the proxy's backend, so it resends the cookie itself
        browser.client.cookies.set(
            "webhost_presession", presession.split(";")[0].removeprefix("webhost_presession=")
        )
        response = browser.client.post(
            "/signup",
            data={
                "csrf_token": csrf_from(form.text),
                "email": unique_email("tls"),
                "password": PASSWORD,
                "name": "Radia Perlman",
                "organization": "Spanning Trees",
                "plan": "hobby",
            },
        )
    assert response.status_code == 303
    cookies = response.headers.get_list("set-cookie")
    names = {cookie.split("=", 1)[0] for cookie in cookies}
    assert names == {"webhost_session", "webhost_presession"}, "the pre-session ends at login"
    assert all("secure" in cookie.lower().split("; ") for cookie in cookies)


def test_signup_errors_are_shown_in_the_form(platform: PlatformThread) -> None:
    email = unique_email("taken")
    with DashboardUser(platform.control_url) as first:
        assert first.sign_up(email=email).status_code == 303
    with DashboardUser(platform.control_url) as browser:
        taken = browser.sign_up(email=email, organization="Second Try")
        assert taken.status_code == 409
        assert "already exists" in text_of(taken.text)
        assert 'value="Second Try"' in taken.text, "the form keeps what was typed"
        assert PASSWORD not in taken.text

        short = browser.sign_up(password="short")
        assert short.status_code == 422
        assert "password" in text_of(short.text)

        unknown_plan = browser.sign_up(plan="platinum")
        assert unknown_plan.status_code == 422
        assert "unknown plan" in text_of(unknown_plan.text)
        assert "webhost_session" not in browser.client.cookies


def test_a_wrong_password_is_shown_inline_with_401(platform: PlatformThread) -> None:
    email = unique_email("login")
    with DashboardUser(platform.control_url) as owner:
        owner.sign_up(email=email)
    with DashboardUser(platform.control_url) as browser:
        response = browser.submit(
            "/login", "/login", {"email": email, "password": "not the password"}
        )
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("text/html")
        assert "invalid email or password" in text_of(response.text)
        assert f'value="{email}"' in response.text
        assert "webhost_session" not in browser.client.cookies

        response = browser.submit("/login", "/login", {"email": email, "password": PASSWORD})
        assert response.status_code == 303
        assert response.headers["location"] == "/dashboard"
        assert browser.get("/dashboard").status_code == 200
        assert browser.get("/").headers["location"] == "/dashboard"
        assert browser.get("/login").headers["location"] == "/dashboard"


def test_logging_out_ends_the_session_on_the_server(platform: PlatformThread) -> None:
    with DashboardUser(platform.control_url) as browser:
        browser.sign_up()
        token = browser.client.cookies["webhost_session"]
        page = browser.dashboard()
        response = browser.client.post("/logout", data={"csrf_token": csrf_from(page)})
        assert response.status_code == 303
        assert response.headers["location"] == "/"
        assert "webhost_session" not in browser.client.cookies
        assert browser.get("/dashboard").headers["location"] == "/login"
    stolen = httpx.get(
        f"{platform.control_url}/api/me", headers={"Authorization": f"Bearer {token}"}
    )
    assert stolen.status_code == 401


def test_pages_need_a_session(platform: PlatformThread) -> None:
    with DashboardUser(platform.control_url) as browser:
        page = browser.get("/dashboard")
        assert page.status_code == 303
        assert page.headers["location"] == "/login"

        browser.client.cookies.set("webhost_session", "whs_sess_expired-or-made-up")
        assert browser.get("/dashboard").headers["location"] == "/login"

        fragment = browser.get(
            "/dashboard/deployments/00000000-0000-0000-0000-000000000000/status",
            headers={"HX-Request": "true"},
        )
        assert fragment.headers["HX-Redirect"] == "/login"


def test_user_content_is_escaped(platform: PlatformThread) -> None:
    with DashboardUser(platform.control_url) as browser:
        browser.sign_up(organization="<script>alert('x')</script>")
        page = browser.dashboard()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(" in page


def test_pages_carry_security_headers(platform: PlatformThread) -> None:
    with DashboardUser(platform.control_url) as browser:
        response = browser.get("/login")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"


def test_a_plan_is_changed_from_the_dashboard_and_a_refusal_is_shown_in_place(
    platform: PlatformThread,
) -> None:
    with DashboardUser(platform.control_url) as browser:
        assert browser.sign_up(plan="professional").status_code == 303
        deployment_id = browser.deployment_id()
        wait_until(
            lambda: 'data-status="active"' in browser.dashboard(),
            timeout=120,
            message="the deployment to go live",
        )
        page = text_of(browser.dashboard())
        assert "Change plan" in page
        action = f"/dashboard/deployments/{deployment_id}/plan"
        moved = browser.submit("/dashboard", action, {"plan": "business"})
        assert moved.status_code == 303, moved.text
        assert "<dt>Plan</dt><dd>business</dd>" in browser.dashboard()
        refused = browser.submit("/dashboard", action, {"plan": "business"})
        assert refused.status_code == 409
        assert "already on the business plan" in text_of(refused.text)

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.bad_input import (
    OVER_HTTP,
    assert_clear_error,
    json_media_types,
    nested_json_text,
)
from tests.support.factories import PASSWORD, Customer, unique_email
from tests.support.logins import fresh_address, log_in
from tests.support.platform import PlatformThread

SignUp = Callable[..., Customer]
JSON = {"content-type": "application/json"}


def test_login_logout_round_trip(platform: PlatformThread, signup: SignUp) -> None:
    customer = signup()
    login = httpx.post(
        f"{platform.control_url}/api/login",
        json={"email": customer.email.upper(), "password": PASSWORD},
    )
    assert login.status_code == 200
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    assert httpx.get(f"{platform.control_url}/api/me", headers=headers).status_code == 200
    assert httpx.post(f"{platform.control_url}/api/logout", headers=headers).status_code == 204
    after = httpx.get(f"{platform.control_url}/api/me", headers=headers)
    assert after.status_code == 401
    assert "log in again" in after.json()["error"]["message"]


def test_wrong_passwords_and_unknown_emails_read_the_same(
    platform: PlatformThread, signup: SignUp
) -> None:
    customer = signup()
    for email, password in [(customer.email, "wrong password"), (unique_email(), PASSWORD)]:
        response = log_in(platform.control_url, email, password, fresh_address())
        assert response.status_code == 401
        assert response.json()["error"]["message"] == "invalid email or password"


def test_protected_routes_need_a_session(platform: PlatformThread) -> None:
    for path in ["/api/me", "/api/keys", "/api/deployments"]:
        response = httpx.get(f"{platform.control_url}{path}")
        assert response.status_code == 401
        assert "log in first" in response.json()["error"]["message"]
    forged = httpx.get(
        f"{platform.control_url}/api/me", headers={"Authorization": "Bearer whs_sess_forged"}
    )
    assert forged.status_code == 401


@settings(OVER_HTTP, max_examples=8)  # each example provisions a deployment
@given(content_type=json_media_types())
def test_signup_and_login_read_json_whatever_the_letter_case_of_the_media_type(
    platform: PlatformThread, content_type: str
) -> None:
    body = {
        "email": unique_email(),
        "password": PASSWORD,
        "name": "Ada",
        "organization": "Engines",
        "plan": "hobby",
    }
    headers = {"content-type": content_type}
    signup = httpx.post(
        f"{platform.control_url}/api/signup", content=json.dumps(body), headers=headers
    )
    assert signup.status_code == 201, signup.text
    credentials = json.dumps({"email": body["email"], "password": PASSWORD})
    login = httpx.post(f"{platform.control_url}/api/login", content=credentials, headers=headers)
    assert login.status_code == 200, login.text


@OVER_HTTP
@given(
    path=st.sampled_from(["/api/signup", "/api/login"]),
    field=st.sampled_from(["email", "password", "name", "organization", "plan", "extra"]),
    value=nested_json_text(1, 20_000),
)
def test_deeply_nested_bodies_get_a_client_error(
    platform: PlatformThread, path: str, field: str, value: str
) -> None:
    body = f'{{"{field}": {value}}}'
    response = httpx.post(f"{platform.control_url}{path}", content=body, headers=JSON)
    error = assert_clear_error(response)
    if response.status_code == 400:
        assert error["message"] == "request body nests objects and arrays too deeply to parse"

"""Small factories that build customers through the real API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.clients import api_client
from tests.support.platform import PlatformThread

PASSWORD = "correct horse battery"


def unique_email(label: str = "dev") -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}@example.com"


@dataclass
class Customer:
    email: str
    token: str
    organization: dict[str, Any]
    deployment: dict[str, Any]
    client: httpx.Client


def sign_up(control_url: str, plan: str = "hobby", **fields: Any) -> Customer:
    """Sign up through the API; close ``customer.client`` when done (the signup fixture does)."""
    body = {
        "email": unique_email(plan),
        "password": PASSWORD,
        "name": "Ada Lovelace",
        "organization": f"Analytical Engines {uuid.uuid4().hex[:6]}",
        "plan": plan,
    } | fields
    response = httpx.post(f"{control_url}/api/signup", json=body, timeout=30)
    assert response.status_code == 201, response.text
    created = response.json()
    return Customer(
        email=body["email"],
        token=created["token"],
        organization=created["organization"],
        deployment=created["deployment"],
        client=api_client(control_url, created["token"]),
    )


def create_key(customer: Customer, name: str = "app") -> dict[str, Any]:
    response = customer.client.post("/api/keys", json={"name": name})
    assert response.status_code == 201, response.text
    key: dict[str, Any] = response.json()
    return key


def operator_login_link(platform: PlatformThread) -> str:
    """What `webhost up` prints: a one-time login link for the operator."""
    from webhost.control.accounts import service as accounts

    async def issue() -> str:
        assert platform.runtime is not None
        assert platform.runtime.platform is not None
        async with platform.runtime.platform.sessions.begin() as session:
            operator = await accounts.ensure_operator(session)
            link = await accounts.issue_one_time_login(session, operator)
        return f"{platform.control_url}/login/once/{link.token}"

    link: str = platform.call(issue)
    return link


def operator_client(platform: PlatformThread) -> httpx.Client:
    """Follow the one-time link like a browser; the session it opens authenticates the client:
    as the cookie on dashboard pages, as a Bearer token on the API (which ignores cookies)."""
    with httpx.Client(base_url=platform.control_url, timeout=30) as browser:
        response = browser.get(operator_login_link(platform), follow_redirects=False)
        assert response.status_code == 303, response.text
        cookies = browser.cookies
    # a fresh client, so callers can use it as a context manager
    return httpx.Client(
        base_url=platform.control_url,
        timeout=30,
        cookies=cookies,
        headers={"Authorization": f"Bearer {cookies['webhost_session']}"},
    )

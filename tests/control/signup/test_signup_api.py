"""POST /api/signup and the dashboard's signup form: account, organization, subscription,
deployment and session, all or nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.bad_input import OVER_HTTP, assert_clear_error, nul_strings
from tests.support.dashboard import DashboardUser
from tests.support.factories import PASSWORD, Customer, operator_client, unique_email
from tests.support.inspect import query
from tests.support.logins import fresh_address, log_in
from tests.support.platform import PlatformThread

SignUp = Callable[..., Customer]


def signup_body(**changes: object) -> dict[str, object]:
    return {
        "email": unique_email(),
        "password": PASSWORD,
        "name": "Ada",
        "organization": "Engines",
        "plan": "hobby",
    } | changes


def create_shared_plan(platform: PlatformThread) -> str:
    """A public shared plan of its own, so a subscription's plan cannot be a default."""
    slug = f"signup-{uuid.uuid4().hex[:8]}"
    with operator_client(platform) as operator:
        response = operator.put(
            f"/api/plans/{slug}",
            json={
                "name": "Signup test plan",
                "price_cents": 700,
                "mode": "shared",
                "retention_days": 7,
                "sort_order": 1000,
            },
        )
    assert response.status_code == 201, response.text
    return slug


def stored_signups(platform: PlatformThread, organization_name: str) -> list[dict[str, Any]]:
    """What the control database holds for organizations of that name, read with plain SQL."""
    rows = query(
        platform.control_database,
        """
        SELECT o.id, a.email, m.role::text,
               (SELECT array_agg(p.slug || ':' || s.status::text ORDER BY s.created_at)
                  FROM subscriptions s JOIN plans p ON p.id = s.plan_id
                 WHERE s.organization_id = o.id),
               (SELECT array_agg(p.slug ORDER BY d.created_at)
                  FROM deployments d JOIN plans p ON p.id = d.plan_id
                 WHERE d.organization_id = o.id)
          FROM organizations o
          JOIN memberships m ON m.organization_id = o.id
          JOIN accounts a ON a.id = m.account_id
         WHERE o.name = $1
        """,
        organization_name,
    )
    return [
        {
            "organization_id": str(row[0]),
            "email": row[1],
            "role": row[2],
            "subscriptions": list(row[3] or []),
            "deployment_plans": list(row[4] or []),
        }
        for row in rows
    ]


def test_signup_returns_organization_deployment_and_a_session(signup: SignUp) -> None:
    customer = signup(organization="Fleet Wizards GmbH")
    assert customer.organization["name"] == "Fleet Wizards GmbH"
    assert customer.organization["slug"].startswith("fleet-wizards-gmbh")
    assert customer.deployment["plan"] == "hobby"
    me = customer.client.get("/api/me").json()
    assert me["account"]["email"] == customer.email
    assert [o["id"] for o in me["organizations"]] == [customer.organization["id"]]


def test_signup_subscribes_the_organization_to_the_plan_it_chose(
    platform: PlatformThread, signup: SignUp
) -> None:
    plan = create_shared_plan(platform)
    name = f"Difference Engines {uuid.uuid4().hex[:6]}"
    customer = signup(plan, organization=name)
    assert customer.deployment["plan"] == plan
    assert stored_signups(platform, name) == [
        {
            "organization_id": customer.organization["id"],
            "email": customer.email,
            "role": "owner",
            "subscriptions": [f"{plan}:active"],
            "deployment_plans": [plan],
        }
    ]


def test_the_dashboard_form_signs_up_the_same_way(platform: PlatformThread) -> None:
    plan = create_shared_plan(platform)
    name = f"Compilers {uuid.uuid4().hex[:6]}"
    email = unique_email("form")
    with DashboardUser(platform.control_url) as browser:
        response = browser.sign_up(plan, email=email, organization=name)
    assert response.status_code == 303, response.text
    [stored] = stored_signups(platform, name)
    assert (stored["email"], stored["role"]) == (email, "owner")
    assert stored["subscriptions"] == [f"{plan}:active"]
    assert stored["deployment_plans"] == [plan]


def test_an_email_signs_up_once(platform: PlatformThread, signup: SignUp) -> None:
    customer = signup()
    again = httpx.post(
        f"{platform.control_url}/api/signup",
        json=signup_body(email=customer.email, name="Again", organization="Again"),
    )
    assert again.status_code == 409
    assert "already exists" in again.json()["error"]["message"]


@pytest.mark.parametrize("channel", ["api", "dashboard"])
def test_a_refused_signup_leaves_no_organization_or_subscription(
    platform: PlatformThread, signup: SignUp, channel: str
) -> None:
    first = signup()
    name = f"Second Try {uuid.uuid4().hex[:6]}"
    if channel == "api":
        refused = httpx.post(
            f"{platform.control_url}/api/signup",
            json=signup_body(email=first.email, organization=name),
        )
    else:
        with DashboardUser(platform.control_url) as browser:
            refused = browser.sign_up(email=first.email, organization=name)
    assert refused.status_code == 409, refused.text
    assert stored_signups(platform, name) == []
    [kept] = stored_signups(platform, first.organization["name"])
    assert kept["subscriptions"] == ["hobby:active"]


@pytest.mark.parametrize(
    ("change", "status", "problem"),
    [
        ({"email": "not-an-email"}, 422, "email"),
        ({"password": "short"}, 422, "password"),
        ({"plan": "platinum"}, 422, "unknown plan 'platinum'"),
        ({"plan": 7}, 422, "plan"),
        ({"organization": ""}, 422, "organization"),
        ({"extra": "field"}, 422, "extra"),
    ],
)
def test_bad_signups_name_the_problem(
    platform: PlatformThread, change: dict[str, object], status: int, problem: str
) -> None:
    response = httpx.post(f"{platform.control_url}/api/signup", json=signup_body(**change))
    assert response.status_code == status, response.text
    assert problem in response.json()["error"]["message"]


def test_malformed_json_and_oversized_bodies(platform: PlatformThread) -> None:
    broken = httpx.post(
        f"{platform.control_url}/api/signup",
        content=b'{"email": ',
        headers={"content-type": "application/json"},
    )
    assert broken.status_code == 400
    assert "not valid JSON" in broken.json()["error"]["message"]
    huge = httpx.post(f"{platform.control_url}/api/signup", json={"name": "x" * 100_000})
    assert huge.status_code == 413


@OVER_HTTP
@given(field=st.sampled_from(["name", "organization", "plan"]), value=nul_strings())
def test_text_postgresql_cannot_store_gets_422_and_no_account(
    platform: PlatformThread, field: str, value: str
) -> None:
    # within every field's length limit, NUL included
    body = signup_body(**{field: ("x" + value)[:30]})
    response = httpx.post(f"{platform.control_url}/api/signup", json=body)
    error = assert_clear_error(response, 422)
    assert f"{field}: contains a NUL character (U+0000)" in error["message"]
    login = log_in(platform.control_url, str(body["email"]), PASSWORD, fresh_address())
    assert login.status_code == 401

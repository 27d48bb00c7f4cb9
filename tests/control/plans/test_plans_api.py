from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.support.factories import Customer
from tests.support.platform import PlatformThread

SignUp = Callable[..., Customer]

# seed 003's CMS catalog: sites and team seats instead of vehicles, a free self-hosted tier
SEED_003_PLANS = {
    "cms-free": {"price_cents": 0, "mode": "self_hosted", "site_limit": None, "user_limit": None},
    "cms-starter": {"price_cents": 1500, "mode": "shared", "site_limit": 1, "user_limit": 1},
    "cms-pro": {"price_cents": 4900, "mode": "shared", "site_limit": 5, "user_limit": 3},
    "cms-business": {
        "price_cents": 14900,
        "mode": "dedicated",
        "site_limit": None,
        "user_limit": None,
    },
}


def test_the_default_catalog_comes_from_the_product_documents(platform: PlatformThread) -> None:
    plans = {plan["slug"]: plan for plan in httpx.get(f"{platform.control_url}/api/plans").json()}
    assert list(plans)[:4] == ["hobby", "starter", "professional", "business"]
    expected = {
        "hobby": (1500, "shared", 5, 30, ["nbg1"], 500),
        "starter": (4900, "dedicated", 25, 90, ["iad"], 2000),
        "professional": (14900, "dedicated", 100, 365, ["iad", "fra"], 5000),
        "business": (39900, "dedicated", 500, 730, ["iad", "fra", "sin"], 10000),
    }
    for slug, (price, mode, vehicles, retention, regions, gps) in expected.items():
        plan = plans[slug]
        assert (
            plan["price_cents"],
            plan["mode"],
            plan["vehicle_limit"],
            plan["retention_days"],
            plan["regions"],
            plan["gps_points_per_second"],
        ) == (price, mode, vehicles, retention, regions, gps)
        assert plan["api_requests_per_second"]
        assert plan["concurrent_connections"]


def test_the_operator_edits_the_catalog(platform: PlatformThread) -> None:
    from tests.support.factories import operator_client

    with operator_client(platform) as operator:
        for slug, fields in SEED_003_PLANS.items():
            response = operator.put(
                f"/api/plans/{slug}",
                json={"name": slug.title(), "retention_days": 30, "is_public": False} | fields,
            )
            assert response.status_code in {200, 201}, response.text
        hidden = operator.get("/api/plans/cms-pro").json()
        assert (hidden["site_limit"], hidden["user_limit"]) == (5, 3)
        patched = operator.patch(
            "/api/plans/cms-pro", json={"user_limit": None, "price_cents": 5900}
        )
        assert (patched.json()["user_limit"], patched.json()["price_cents"]) == (None, 5900)
        refused = operator.patch("/api/plans/cms-pro", json={"name": None})
        assert refused.status_code == 422
        assert "name cannot be null" in refused.json()["error"]["message"]
    public = [plan["slug"] for plan in httpx.get(f"{platform.control_url}/api/plans").json()]
    assert "cms-pro" not in public


def test_hidden_and_self_hosted_plans_are_not_for_signup(
    platform: PlatformThread, signup: SignUp
) -> None:
    from tests.support.factories import operator_client, unique_email

    with operator_client(platform) as operator:
        operator.put(
            "/api/plans/selfhost",
            json={
                "name": "Self",
                "price_cents": 0,
                "mode": "self_hosted",
                "retention_days": 1,
                "sort_order": 1000,
            },
        )
    response = httpx.post(
        f"{platform.control_url}/api/signup",
        json={
            "email": unique_email(),
            "password": "long enough password",
            "name": "A",
            "organization": "B",
            "plan": "selfhost",
        },
    )
    assert response.status_code == 422
    assert "self-hosted" in response.json()["error"]["message"]


def test_only_the_operator_changes_plans(signup: SignUp) -> None:
    customer = signup()
    response = customer.client.patch("/api/plans/hobby", json={"price_cents": 1})
    assert response.status_code == 403
    assert customer.client.get("/api/plans/hobby").json()["price_cents"] == 1500


def test_each_default_plan_bounds_its_yjs_documents(platform: PlatformThread) -> None:
    plans = {plan["slug"]: plan for plan in httpx.get(f"{platform.control_url}/api/plans").json()}
    limits = [plans[slug]["yjs_document_max_bytes"] for slug in ("hobby", "starter")]
    assert limits == [16 * 2**20, 32 * 2**20]
    assert (
        plans["business"]["yjs_document_max_bytes"]
        > plans["professional"]["yjs_document_max_bytes"]
    )


def test_a_plans_document_limit_reaches_its_live_deployments(
    platform: PlatformThread, signup: SignUp
) -> None:
    from tests.data.yjs.peers import WirePeer
    from tests.support.factories import create_key, operator_client
    from tests.support.platform import wait_for_deployment
    from tests.support.polling import wait_until

    with operator_client(platform) as operator:
        response = operator.put(
            "/api/plans/tiny-docs",
            json={
                "name": "Tiny documents",
                "price_cents": 100,
                "mode": "shared",
                "retention_days": 7,
                "yjs_document_max_bytes": 64 * 1024,
            },
        )
        assert response.status_code == 201, response.text
        customer = signup("tiny-docs")
        deployment = wait_for_deployment(customer.client, customer.deployment["id"])
        key = create_key(customer)["key"]

        def write(value: str) -> int | None:
            """Append in one update; the writer's close code if refused (it is, or a reader
            receives the text)."""
            url = deployment["sync_url"]
            with (
                WirePeer.connect(url, "notes", key).wait_synced() as writer,
                WirePeer.connect(url, "notes", key).wait_synced() as reader,
            ):
                writer.insert(value)
                wait_until(
                    lambda: (
                        writer.pump().close_code is not None or reader.pump().text.endswith(value)
                    ),
                    message="the update stored or refused",
                )
                return writer.close_code

        assert write("x" * 100_000) == 4413
        patched = operator.patch("/api/plans/tiny-docs", json={"yjs_document_max_bytes": 2**20})
        assert patched.status_code == 200, patched.text
        assert write("y" * 100_000) is None


def test_a_plan_names_the_provider_its_deployments_are_made_on(
    platform: PlatformThread, signup: SignUp
) -> None:
    from tests.support.factories import operator_client

    with operator_client(platform) as operator:
        unknown = operator.patch("/api/plans/hobby", json={"provider": "nowhere"})
        assert unknown.status_code == 422, unknown.text
        assert "unknown provider 'nowhere'" in unknown.json()["error"]["message"]
        assert operator.get("/api/plans/hobby").json()["provider"] is None
        fields = {"name": "Local", "mode": "shared", "retention_days": 30, "price_cents": 0}
        created = operator.put("/api/plans/local-hobby", json=fields | {"provider": "local"})
        assert created.status_code == 201, created.text
        assert created.json()["provider"] == "local"
    customer = signup("local-hobby")
    assert customer.deployment["provider"] == "local"

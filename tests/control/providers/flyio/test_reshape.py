"""A plan change within dedicated hosting reshapes the deployment's Fly.io app in place while it
serves: Starter -> Professional adds the fra volume and standby and gives the primary the new
size, with the same machine and the same data; back to Starter removes them again. A plan
that would move the primary's region is refused up front."""

from __future__ import annotations

from contextlib import closing
from typing import Any

import pytest

from tests.control.providers.flyio.platforms import app_of
from tests.support.clients import api_client
from tests.support.factories import Customer, create_key, operator_client, sign_up
from tests.support.fakes.flyio import FakeFly
from tests.support.fly_runtime import FlyRuntime
from tests.support.platform import PlatformThread, wait_for_deployment
from tests.support.polling import wait_until
from webhost.control.providers.flyio.schemas import DESTROYED_VOLUME_STATES

pytestmark = pytest.mark.slow


def shape(fake: FakeFly, app: str) -> dict[str, Any]:
    """Machines by name (id, region, size) and the regions holding a live volume."""
    with fake.lock:
        machines = {
            m.name: (m.id, m.region, m.config["guest"]) for m in fake.apps[app].live_machines()
        }
        volumes = sorted(
            v.region
            for v in fake.apps[app].volumes.values()
            if v.state not in DESTROYED_VOLUME_STATES
        )
    return {"machines": machines, "volumes": volumes}


def change_plan(customer: Any, deployment_id: str, plan: str) -> None:
    answered = customer.client.post(f"/api/deployments/{deployment_id}/plan", json={"plan": plan})
    assert answered.status_code == 202, answered.text
    assert answered.json()["status"] == "active"  # it serves on while the app changes


def starter_deployment(platform: PlatformThread) -> tuple[Customer, str]:
    """A Starter customer and their deployment, once it is active on its Fly app."""
    customer = sign_up(platform.control_url, plan="starter")
    deployment_id = customer.deployment["id"]
    wait_for_deployment(customer.client, deployment_id, timeout=120)
    return customer, deployment_id


def test_a_plan_change_within_dedicated_hosting_changes_regions_and_sizes_in_place(
    fly_platform: PlatformThread, fake_fly: FakeFly, runtime: FlyRuntime
) -> None:
    customer, deployment_id = starter_deployment(fly_platform)
    with closing(customer.client):
        app = app_of(deployment_id)
        before = shape(fake_fly, app)
        [(primary_id, region, size)] = before["machines"].values()
        assert (region, size["cpu_kind"], size["memory_mb"]) == ("iad", "shared", 512)
        assert before["volumes"] == ["iad"]
        key = create_key(customer)["key"]
        with api_client(runtime.plane_url, key) as data:
            assert data.put("/v1/collections/trips", json={"schema": "++id"}).status_code == 201
            assert data.post("/v1/collections/trips/records", json={"n": 1}).status_code == 201

        change_plan(customer, deployment_id, "professional")
        grown = wait_until(
            lambda: (
                (s := shape(fake_fly, app))["volumes"] == ["fra", "iad"]
                and len(s["machines"]) == 2
                and s["machines"]["plane-primary-iad"][2]["memory_mb"] == 1024
                and s
            ),
            timeout=120,
            message="the fra region added and the primary resized",
        )
        primary = grown["machines"]["plane-primary-iad"]
        assert primary[0] == primary_id  # the same machine, on the same volume
        assert primary[2]["cpu_kind"] == "performance"
        assert grown["machines"]["plane-standby-fra"][1] == "fra"

        change_plan(customer, deployment_id, "starter")
        shrunk = wait_until(
            lambda: (
                (s := shape(fake_fly, app))["volumes"] == ["iad"]
                and list(s["machines"]) == ["plane-primary-iad"]
                and s["machines"]["plane-primary-iad"][2]["memory_mb"] == 512
                and s
            ),
            timeout=120,
            message="the fra region removed and the primary back to its size",
        )
        assert shrunk["machines"]["plane-primary-iad"][0] == primary_id
        after = customer.client.get(f"/api/deployments/{deployment_id}").json()
        assert (after["status"], after["plan"], after["error"]) == ("active", "starter", None)

        def records() -> list[Any] | None:
            with api_client(runtime.plane_url, key) as data:
                listed = data.get("/v1/collections/trips/records")
            return listed.json() if listed.status_code == 200 else None

        # the data stayed where it was, on the primary's volume
        assert [r["n"] for r in wait_until(records, timeout=60, message="records")] == [1]


def test_a_plan_without_the_primarys_region_is_refused_up_front(
    fly_platform: PlatformThread, fake_fly: FakeFly
) -> None:
    with operator_client(fly_platform) as operator:
        made = operator.patch("/api/plans/business", json={"regions": ["fra", "sin"]})
        assert made.status_code == 200, made.text
    customer, deployment_id = starter_deployment(fly_platform)
    with closing(customer.client):
        before = shape(fake_fly, app_of(deployment_id))
        refused = customer.client.post(
            f"/api/deployments/{deployment_id}/plan", json={"plan": "business"}
        )
        assert refused.status_code == 409, refused.text
        assert "does not run in iad, where this deployment's data is" in refused.text
        assert customer.client.get(f"/api/deployments/{deployment_id}").json()["plan"] == "starter"
        assert shape(fake_fly, app_of(deployment_id)) == before


def test_servers_that_do_not_come_in_line_leave_it_serving_until_the_operator_retries(
    fly_platform: PlatformThread, fake_fly: FakeFly, runtime: FlyRuntime
) -> None:
    customer, deployment_id = starter_deployment(fly_platform)
    with closing(customer.client):
        app = app_of(deployment_id)
        key = create_key(customer)["key"]
        # Fly.io refuses the fra volume on every attempt the job makes
        fake_fly.fail_next("POST", f"/v1/apps/{app}/volumes", 422, times=4)
        change_plan(customer, deployment_id, "professional")

        def failed() -> dict[str, Any] | None:
            body: dict[str, Any] = customer.client.get(f"/api/deployments/{deployment_id}").json()
            return body if body["error"] else None

        stuck = wait_until(failed, timeout=120, interval=0.2, message="the reshape given up")
        assert (stuck["status"], stuck["plan"]) == ("active", "professional")
        assert "the servers of the professional plan are not all in place" in stuck["error"]
        assert f"/api/admin/deployments/{deployment_id}/reshape/retry" in stuck["error"]
        assert shape(fake_fly, app)["volumes"] == ["iad"]
        with api_client(runtime.plane_url, key) as data:
            assert data.get("/v1/collections").status_code == 200  # it serves on

        with operator_client(fly_platform) as operator:
            page = operator.get("/operator")
            assert f"/operator/deployments/{deployment_id}/reshape/retry" in page.text
            retried = operator.post(f"/api/admin/deployments/{deployment_id}/reshape/retry")
            assert retried.status_code == 202, retried.text
            wait_until(
                lambda: shape(fake_fly, app)["volumes"] == ["fra", "iad"],
                timeout=120,
                message="the fra region added on the retry",
            )
            wait_until(lambda: not failed(), timeout=60, message="the error cleared")
            again = operator.post(f"/api/admin/deployments/{deployment_id}/reshape/retry")
            assert again.status_code == 409, again.text

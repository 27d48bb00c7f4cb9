"""Apps, secrets and public addresses of a deployment, through our client and the fake."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from tests.control.providers.flyio.helpers import ORG, app_name, run
from tests.support.fakes.flyio import FakeFly
from webhost.control.providers.flyio.machines import FlyMachinesApi
from webhost.control.providers.flyio.schemas import FlyIpAssignment
from webhost.errors import ProvisioningError


def test_ensure_app_creates_the_app_in_our_organization(fake_fly: FakeFly) -> None:
    name = app_name()

    app = run(fake_fly, lambda fly: fly.ensure_app(name))

    assert app.name == name
    assert app.organization.slug == ORG
    assert fake_fly.apps[name].org_slug == ORG
    [create] = fake_fly.requests_to("POST", "/v1/apps")
    assert create.body == {"name": name, "org_slug": ORG}
    assert create.status == 201


def test_a_repeated_ensure_app_finds_the_app_instead_of_creating_another(
    fake_fly: FakeFly,
) -> None:
    name = app_name()
    first = run(fake_fly, lambda fly: fly.ensure_app(name))

    again = run(fake_fly, lambda fly: fly.ensure_app(name))

    assert again.id == first.id
    assert len(fake_fly.requests_to("POST", "/v1/apps")) == 1


def test_a_create_whose_answer_was_lost_is_found_rather_than_repeated(fake_fly: FakeFly) -> None:
    name = app_name()
    fake_fly.fail_next("POST", "/v1/apps", 500, after_applying=True)

    app = run(fake_fly, lambda fly: fly.ensure_app(name))

    assert app.name == name
    assert [r.status for r in fake_fly.requests_to("POST", "/v1/apps")] == [500]
    assert list(fake_fly.apps) == [name]


def test_an_app_name_held_by_another_organization_is_refused(fake_fly: FakeFly) -> None:
    name = app_name()
    fake_fly.hold_app_name(name, "someone-else")

    with pytest.raises(ProvisioningError, match=f"{name} is taken by another organization"):
        run(fake_fly, lambda fly: fly.ensure_app(name))

    assert name not in fake_fly.apps


def test_delete_app_removes_it_and_deleting_it_again_succeeds(fake_fly: FakeFly) -> None:
    name = app_name()

    async def scenario(fly: FlyMachinesApi) -> None:
        await fly.ensure_app(name)
        await fly.delete_app(name)
        await fly.delete_app(name)

    run(fake_fly, scenario)

    assert name not in fake_fly.apps
    assert [r.status for r in fake_fly.requests_to("DELETE", f"/v1/apps/{name}")] == [202, 404]


def test_secrets_are_set_and_each_change_gets_a_new_version(fake_fly: FakeFly) -> None:
    name = app_name()

    async def scenario(fly: FlyMachinesApi) -> tuple[int, int]:
        await fly.ensure_app(name)
        first = await fly.set_secrets(
            name, {"PLANE_DATABASE_PASSWORD": "pw-1", "PLANE_MANAGEMENT_TOKEN": "mt-1"}
        )
        second = await fly.set_secrets(name, {"PLANE_DATABASE_PASSWORD": "pw-2"})
        return first, second

    first, second = run(fake_fly, scenario)

    assert (first, second) == (1, 2)
    assert fake_fly.apps[name].secrets == {
        "PLANE_DATABASE_PASSWORD": "pw-2",
        "PLANE_MANAGEMENT_TOKEN": "mt-1",
    }


def test_secret_values_stay_out_of_logs_and_errors(fake_fly: FakeFly) -> None:
    name = app_name()
    password = "s3cret-database-password-7f1e"
    run(fake_fly, lambda fly: fly.ensure_app(name))
    fake_fly.fail_next("POST", f"/v1/apps/{name}/secrets", 503, times=2)

    with capture_logs() as logs:
        run(fake_fly, lambda fly: fly.set_secrets(name, {"PLANE_DATABASE_PASSWORD": password}))
        with pytest.raises(ProvisioningError) as refused:
            run(fake_fly, lambda fly: fly.set_secrets("wh-no-such-app", {"A_SECRET": password}))

    assert fake_fly.apps[name].secrets == {"PLANE_DATABASE_PASSWORD": password}
    assert len(logs) == 2, "each retry is logged"
    assert all(password not in repr(entry) for entry in logs)
    assert "PLANE_DATABASE_PASSWORD" in repr(logs[0])
    assert "HTTP 404" in refused.value.message
    assert password not in refused.value.message


def test_ensure_ips_assigns_a_shared_ipv4_and_a_dedicated_ipv6_once(fake_fly: FakeFly) -> None:
    name = app_name()

    async def scenario(fly: FlyMachinesApi) -> list[FlyIpAssignment]:
        await fly.ensure_app(name)
        await fly.ensure_ips(name)
        return await fly.ensure_ips(name)

    addresses = run(fake_fly, scenario)

    assert sorted((ip.shared, ":" in ip.ip) for ip in addresses) == [(False, True), (True, False)]
    posts = fake_fly.requests_to("POST", f"/v1/apps/{name}/ip_assignments")
    assert sorted(r.body["type"] for r in posts) == ["shared_v4", "v6"]
    assert len(fake_fly.apps[name].ips) == 2


def test_a_private_ipv6_does_not_count_as_the_public_one(fake_fly: FakeFly) -> None:
    name = app_name()
    run(fake_fly, lambda fly: fly.ensure_app(name))
    with fake_fly.lock:
        fake_fly.assign_ip(name, {"type": "private_v6"})

    addresses = run(fake_fly, lambda fly: fly.ensure_ips(name))

    assert len(addresses) == 3
    assert any(ip.is_public_ipv6 for ip in addresses)


def test_an_address_whose_answer_was_lost_is_not_assigned_twice(fake_fly: FakeFly) -> None:
    name = app_name()
    run(fake_fly, lambda fly: fly.ensure_app(name))
    fake_fly.fail_next("POST", f"/v1/apps/{name}/ip_assignments", 502, after_applying=True)

    run(fake_fly, lambda fly: fly.ensure_ips(name))

    assert len(fake_fly.apps[name].ips) == 2

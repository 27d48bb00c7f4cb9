"""After an upgrade of WebHost, the local provider brings every tenant directory up to date
before dedicated planes serve: catalogue migrations, the plane's grants, and the plans'
current limits."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from tests.support.factories import Customer
from tests.support.inspect import query
from tests.support.platform import PlatformThread, wait_for_deployment
from webhost.control.providers.local.steps import plane_role_of
from webhost.data.tenancy.scope import tenant_name_for

SignUp = Callable[..., Customer]
DIRECTORY = "webhost_dataplane.tenants"


def test_directories_are_brought_up_to_date_at_start(
    platform: PlatformThread, signup: SignUp
) -> None:
    customer = signup("starter")
    deployment = wait_for_deployment(customer.client, customer.deployment["id"])
    assert deployment["status"] == "active"
    tenant = tenant_name_for(uuid.UUID(deployment["id"]))
    runtime = platform.runtime
    assert runtime is not None
    assert runtime.platform is not None
    database = runtime.platform.server.with_database(f"wh_{tenant}")
    # as a release before fleet tracking left it: no fleet limits; and a grant gone missing
    plane = plane_role_of(tenant)
    query(database, f'REVOKE SELECT ON ALL TABLES IN SCHEMA webhost_dataplane FROM "{plane}"')
    query(database, f"UPDATE {DIRECTORY} SET vehicle_limit = NULL, retention_days = NULL")

    provider = runtime.platform.providers.default
    platform.call(provider.bring_directories_up_to_date)  # type: ignore[attr-defined]

    granted = query(database, f"SELECT has_table_privilege('{plane}', '{DIRECTORY}', 'SELECT')")
    assert granted == [(True,)]
    limits = query(
        database, f"SELECT vehicle_limit, gps_points_per_second, retention_days FROM {DIRECTORY}"
    )
    assert limits == [(25, 2000, 90)]

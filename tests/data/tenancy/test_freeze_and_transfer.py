"""A tenant's data frozen for a move takes no more writes (answered 503, never lost), a copy of
it in another database is equal table by table, and a difference is found and named."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.data.tenancy.copies import between, fill, in_transaction, provision_copy_target
from tests.data.yjs.peers import WirePeer
from tests.support.clients import api_client
from tests.support.database import (
    ProvisionedTenant,
    create_dataplane_database,
    set_serving_state,
)
from tests.support.servers import ServedApp
from webhost.data.tenancy import freeze, management, transfer
from webhost.db.urls import PostgresURL


@pytest.fixture
def target_database(postgres_server: PostgresURL) -> PostgresURL:
    return create_dataplane_database(postgres_server)


@pytest.fixture
def frozen_later(
    dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> Iterator[ProvisionedTenant]:
    """The tenant; thawed after the test whatever it did (the data plane is shared)."""
    yield tenant
    in_transaction(dataplane_database, lambda c: freeze.thaw(c, tenant.tenant))


def test_a_frozen_tenant_reads_but_every_write_is_answered_503_and_thawing_restores_it(
    data_server: ServedApp, dataplane_database: PostgresURL, frozen_later: ProvisionedTenant
) -> None:
    tenant = frozen_later
    with api_client(data_server.url, tenant.api_key) as client:
        assert client.put("/v1/collections/notes", json={"schema": "id"}).status_code == 201
        assert client.post("/v1/collections/notes/records", json={"id": "kept"}).status_code == 201
        in_transaction(dataplane_database, lambda c: freeze.freeze(c, tenant.tenant))
        assert in_transaction(dataplane_database, lambda c: freeze.is_frozen(c, tenant.tenant))
        refused = [
            client.post("/v1/collections/notes/records", json={"id": "late"}),
            client.put("/v1/collections/notes/records/kept", json={"id": "kept", "v": 2}),
            client.delete("/v1/collections/notes/records/kept"),
            client.post(
                "/v1/fleet/positions",
                json=[
                    {
                        "vehicle": "V",
                        "time": datetime.now(UTC).isoformat(),
                        "latitude": 1,
                        "longitude": 2,
                    }
                ],
            ),
        ]
        for response in refused:
            assert response.status_code == 503, response.text
            assert int(response.headers["retry-after"]) >= 1
        listed = client.get("/v1/collections/notes/records")
        assert listed.status_code == 200
        assert [record["id"] for record in listed.json()] == ["kept"]
        in_transaction(dataplane_database, lambda c: freeze.thaw(c, tenant.tenant))
        assert client.post("/v1/collections/notes/records", json={"id": "late"}).status_code == 201


def test_a_freeze_waits_for_a_write_in_flight_which_is_kept(
    data_server: ServedApp, dataplane_database: PostgresURL, frozen_later: ProvisionedTenant
) -> None:
    tenant = frozen_later
    with api_client(data_server.url, tenant.api_key) as client:
        assert client.put("/v1/collections/notes", json={"schema": "id"}).status_code == 201
    writing, commit = threading.Event(), threading.Event()

    async def slow_writer(connection: AsyncConnection) -> None:
        await connection.exec_driver_sql(f"SET LOCAL ROLE {tenant.tenant.name}")
        await connection.execute(
            text(f"INSERT INTO {tenant.tenant.name}.c_notes (pk, data) VALUES (:pk, :data)"),
            {"pk": '"in-flight"', "data": '{"id": "in-flight"}'},
        )
        writing.set()
        await asyncio.to_thread(commit.wait, 10)

    writer = threading.Thread(target=in_transaction, args=(dataplane_database, slow_writer))
    writer.start()
    assert writing.wait(10)
    frozen = threading.Event()
    freezer = threading.Thread(
        target=lambda: (
            in_transaction(dataplane_database, lambda c: freeze.freeze(c, tenant.tenant)),
            frozen.set(),
        )
    )
    freezer.start()
    time.sleep(0.5)
    assert not frozen.is_set()  # the freeze waits for the write to end
    commit.set()
    writer.join(10)
    freezer.join(10)
    assert frozen.is_set()
    with api_client(data_server.url, tenant.api_key) as client:
        assert [r["id"] for r in client.get("/v1/collections/notes/records").json()] == [
            "in-flight"
        ]


@pytest.mark.parametrize(("state", "code"), [("held", 1013), ("suspended", 4402)])
def test_sockets_close_with_a_code_that_says_whether_to_come_back(
    data_server: ServedApp,
    dataplane_database: PostgresURL,
    tenant: ProvisionedTenant,
    state: str,
    code: int,
) -> None:
    peer = WirePeer.connect(data_server.ws_url, "closing", tenant.api_key).wait_synced()
    try:
        set_serving_state(dataplane_database, tenant.tenant, state, "not now")
        assert peer.wait_closed() == code
    finally:
        peer.close()
        set_serving_state(dataplane_database, tenant.tenant, "active")
    again = WirePeer.connect(data_server.ws_url, "closing", tenant.api_key).wait_synced()
    again.close()  # the key is not remembered as revoked: it connects again once active


def test_a_copy_equals_its_source_and_a_changed_row_is_named(
    data_server: ServedApp,
    dataplane_database: PostgresURL,
    target_database: PostgresURL,
    frozen_later: ProvisionedTenant,
) -> None:
    tenant = frozen_later.tenant
    with api_client(data_server.url, frozen_later.api_key) as client:
        fill(client)
    provision_copy_target(target_database, tenant)
    in_transaction(dataplane_database, lambda c: freeze.freeze(c, tenant))
    report = between(
        dataplane_database, target_database, lambda r, w: transfer.copy_tenant(r, w, tenant)
    )
    assert report.rows >= 50
    source = in_transaction(dataplane_database, lambda c: transfer.digests(c, tenant))
    target = in_transaction(target_database, lambda c: transfer.digests(c, tenant))
    assert transfer.differences(source, target) == []
    assert source["c_trips"].rows == 30
    assert source["fleet_positions"].rows == 20
    assert source["api_keys"].rows == 1
    # a copy run again (a resumed move) replaces what it made: still equal
    between(dataplane_database, target_database, lambda r, w: transfer.copy_tenant(r, w, tenant))
    again = in_transaction(target_database, lambda c: transfer.digests(c, tenant))
    assert transfer.differences(source, again) == []
    in_transaction(
        target_database,
        lambda c: c.execute(
            text(f"DELETE FROM {tenant.name}.fleet_positions WHERE latitude > 52.095")
        ),
    )
    changed = in_transaction(target_database, lambda c: transfer.digests(c, tenant))
    found = transfer.differences(source, changed)
    assert found == ["fleet_positions: 20 rows on the source, 10 on the target"]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.text(max_size=20).filter(lambda t: "\x00" not in t),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8).filter(lambda t: "\x00" not in t), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    documents=st.lists(
        st.dictionaries(st.sampled_from(["a", "b", "ü", "n"]), json_values, max_size=4),
        min_size=1,
        max_size=8,
    )
)
def test_any_records_copy_to_an_equal_digest(
    data_server: ServedApp,
    dataplane_database: PostgresURL,
    target_database: PostgresURL,
    frozen_later: ProvisionedTenant,
    documents: list[dict[str, Any]],
) -> None:
    tenant = frozen_later.tenant
    in_transaction(dataplane_database, lambda c: freeze.thaw(c, tenant))
    with api_client(data_server.url, frozen_later.api_key) as client:
        client.put("/v1/collections/things", json={"schema": "++id"})
        for document in documents:
            response = client.post("/v1/collections/things/records", json=document)
            assert response.status_code == 201, response.text
    if not in_transaction(target_database, lambda c: management.schema_exists(c, tenant.name)):
        provision_copy_target(target_database, tenant)
    in_transaction(dataplane_database, lambda c: freeze.freeze(c, tenant))
    between(dataplane_database, target_database, lambda r, w: transfer.copy_tenant(r, w, tenant))
    source = in_transaction(dataplane_database, lambda c: transfer.digests(c, tenant))
    target = in_transaction(target_database, lambda c: transfer.digests(c, tenant))
    assert transfer.differences(source, target) == []

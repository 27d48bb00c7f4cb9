"""Stock yjs + y-websocket clients, each in its own Node process, against a real data plane."""

from __future__ import annotations

from typing import Any

import pytest

from tests.data.yjs.planes import StartPlane
from tests.support.database import ProvisionedTenant, add_key, provision_tenant, revoke_key
from tests.support.node import YjsNodeClient, node_available
from tests.support.polling import wait_until
from tests.support.servers import ServedApp
from webhost.data.tenancy.limits import TenantLimits
from webhost.db.urls import PostgresURL

pytestmark = [
    pytest.mark.node,
    pytest.mark.skipif(not node_available(), reason="needs node and tests/node/node_modules"),
]


def content(client: YjsNodeClient) -> tuple[str, dict[str, Any]]:
    state = client.snapshot()
    return state["text"], state["map"]


def converged(*clients: YjsNodeClient) -> tuple[str, dict[str, Any]]:
    """Poll until every client holds the same document; returns it."""

    contents: list[tuple[str, dict[str, Any]]] = []

    def same() -> bool:
        contents[:] = [content(client) for client in clients]
        return all(c == contents[0] for c in contents)

    wait_until(same, message="clients to converge")
    return contents[0]


def test_concurrent_edits_converge(data_server: ServedApp, tenant: ProvisionedTenant) -> None:
    with (
        YjsNodeClient(data_server.ws_url, "board", tenant.api_key) as ada,
        YjsNodeClient(data_server.ws_url, "board", tenant.api_key) as bob,
    ):
        ada.wait_synced()
        bob.wait_synced()

        # both bursts are ordered before either is answered, so they run at the same time
        orders = [
            (client, client.order("burst", prefix=name, count=30))
            for client, name in [(ada, "a"), (bob, "b")]
        ]
        for client, order in orders:
            client.answer(order)

        text, shared = converged(ada, bob)

    expected = {f"{prefix}{n}" for prefix in "ab" for n in range(30)}
    assert set(text.rstrip(";").split(";")) == expected
    assert set(shared) == expected | {"last"}
    assert shared["last"] in {"a", "b"}


def test_offline_edits_merge_on_reconnect(
    data_server: ServedApp, tenant: ProvisionedTenant
) -> None:
    with (
        YjsNodeClient(data_server.ws_url, "field-notes", tenant.api_key) as online,
        YjsNodeClient(data_server.ws_url, "field-notes", tenant.api_key) as travelling,
    ):
        online.call("insert", value="shared start. ")
        wait_until(lambda: content(travelling)[0] == "shared start. ", message="first sync")

        travelling.call("disconnect")
        travelling.call("insert", value="written offline. ")
        travelling.call("set", key="offline", value=True)
        online.call("insert", value="written online. ")
        online.call("set", key="online", value=True)
        assert "written online. " not in content(travelling)[0]
        travelling.call("connect")

        text, shared = converged(online, travelling)

    assert text.startswith("shared start. ")
    assert "written offline. " in text
    assert "written online. " in text
    assert shared == {"offline": True, "online": True}


def test_a_document_survives_a_restart(start_plane: StartPlane, tenant: ProvisionedTenant) -> None:
    plane = start_plane()
    with YjsNodeClient(plane.ws_url, "logbook", tenant.api_key) as writer:
        writer.wait_synced()
        writer.call("insert", value="entry one")
        writer.call("set", key="pages", value=1)
        with YjsNodeClient(plane.ws_url, "logbook", tenant.api_key) as witness:
            # seen by a second client, hence through the server and stored
            wait_until(lambda: content(witness) == ("entry one", {"pages": 1}), message="sync")
    plane.stop()

    restarted = start_plane()
    with YjsNodeClient(restarted.ws_url, "logbook", tenant.api_key) as reader:
        reader.wait_synced()
        assert content(reader) == ("entry one", {"pages": 1})


def test_presence_reaches_other_clients_and_leaves_with_them(
    data_server: ServedApp, tenant: ProvisionedTenant
) -> None:
    with (
        YjsNodeClient(data_server.ws_url, "cursors", tenant.api_key) as watcher,
        YjsNodeClient(data_server.ws_url, "cursors", tenant.api_key) as typist,
    ):
        typist.call("presence", state={"user": "ada", "cursor": 3})
        wait_until(
            lambda: (
                [peer["state"] for peer in watcher.snapshot()["peers"]]
                == [{"user": "ada", "cursor": 3}]
            ),
            message="presence",
        )
        # gone without retracting its presence: the server retracts it for the others
        typist.kill()
        wait_until(lambda: watcher.snapshot()["peers"] == [], message="presence removed")


def test_a_client_with_a_bad_key_is_refused(data_server: ServedApp) -> None:
    with YjsNodeClient(data_server.ws_url, "board", "whs_live_nope") as intruder:
        wait_until(
            lambda: any(e["event"] == "connection-close" for e in intruder.events()),
            message="refusal",
        )
        assert not intruder.snapshot()["synced"]


def test_a_revoked_key_stops_a_connected_client_for_good(
    data_server: ServedApp, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    key, prefix = add_key(dataplane_database, tenant.tenant)
    with YjsNodeClient(data_server.ws_url, "board", key) as client:
        client.wait_synced()

        revoke_key(dataplane_database, prefix)

        closed = wait_until(
            lambda: [e for e in client.events() if e["event"] == "closed"], message="closed"
        )
        assert closed[0]["code"] == 4401
        assert not client.snapshot()["connected"]


def test_a_stock_client_loads_a_document_beyond_the_old_sixteen_mebibyte_wall(
    start_plane: StartPlane, dataplane_database: PostgresURL
) -> None:
    roomy = provision_tenant(
        dataplane_database, limits=TenantLimits(yjs_document_max_bytes=32 * 2**20)
    )
    plane = start_plane()
    with YjsNodeClient(plane.ws_url, "atlas", roomy.api_key) as writer:
        writer.wait_synced()
        for part in range(9):
            writer.call("insert", value=str(part) * (2 * 2**20))
        with YjsNodeClient(plane.ws_url, "atlas", roomy.api_key) as reader:
            wait_until(lambda: reader.snapshot()["length"] == 18 * 2**20, message="18 MiB loaded")


def test_a_stock_client_refused_for_the_document_limit_does_not_retry(
    start_plane: StartPlane, dataplane_database: PostgresURL
) -> None:
    small = provision_tenant(dataplane_database, limits=TenantLimits(yjs_document_max_bytes=65536))
    plane = start_plane()
    with YjsNodeClient(plane.ws_url, "notes", small.api_key) as writer:
        writer.wait_synced()
        writer.call("insert", value="x" * 100_000)
        wait_until(
            lambda: any(event.get("event") == "closed" for event in writer.events()),
            message="a permanent close",
        )
        closed = next(event for event in writer.events() if event.get("event") == "closed")
        assert closed["code"] == 4413
        assert "limit" in closed["reason"]
        assert not writer.snapshot()["connected"]

from __future__ import annotations

import random
import socket
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from pycrdt import create_update_message
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.data.yjs.documents import HALF_APPLYING_UPDATE, crafted_target
from tests.data.yjs.peers import QUERY_AWARENESS, WirePeer, awareness_message
from tests.data.yjs.planes import StartedPlane, StartPlane
from tests.data.yjs.storage import (
    StoredDocument,
    document_names,
    read_stored,
    refusing_updates,
    slowing_updates,
)
from tests.support.database import ProvisionedTenant, add_key, provision_tenant, revoke_key
from tests.support.inspect import query
from tests.support.polling import wait_until
from tests.support.servers import ServedApp
from webhost.data.yjs.room import RoomOptions
from webhost.db.urls import PostgresURL

_random = random.Random(20_240_611)

MALFORMED_FRAMES = {
    "random bytes": bytes([0xC7]) + _random.randbytes(200),
    "random sync message": b"\x00" + _random.randbytes(64),
    "random update": b"\x00\x02" + _random.randbytes(64),
    "random awareness": b"\x01" + _random.randbytes(64),
    "truncated varint": b"\x00\x02\xff\xff",
    "unknown message type": b"\x09\x00",
    "unknown sync step": b"\x00\x07\x00",
    "undecodable update": create_update_message(b"\x05\x01garbage"),
    "update claiming millions of clients": create_update_message(b"\x80\x80\x80\x7f"),
    "awareness state that is not JSON": b"\x01\x06\x01\x01\x01\x02{x",
}


def connected(server: ServedApp | StartedPlane, document: str, api_key: str) -> WirePeer:
    return WirePeer.connect(server.ws_url, document, api_key).wait_synced()


def test_clients_of_a_document_see_each_others_edits(
    data_server: ServedApp, tenant: ProvisionedTenant
) -> None:
    # connecting at once: they must all land in one room, loaded once
    with ThreadPoolExecutor(4) as pool:
        peers = list(
            pool.map(lambda _: connected(data_server, "meeting", tenant.api_key), range(4))
        )
    try:
        peers[0].insert("hello")
        for peer in peers[1:]:
            peer.wait_text("hello")
        peers[3].insert(" all")
        for peer in peers:
            peer.wait_text("hello all")
    finally:
        for peer in peers:
            peer.close()


def test_a_newcomer_receives_the_document_so_far(
    data_server: ServedApp, tenant: ProvisionedTenant
) -> None:
    with connected(data_server, "history", tenant.api_key) as writer:
        writer.insert("first")
        with connected(data_server, "history", tenant.api_key) as reader:
            reader.wait_text("first")


@pytest.mark.parametrize("frame", MALFORMED_FRAMES.values(), ids=MALFORMED_FRAMES.keys())
def test_a_malformed_frame_closes_only_its_own_socket(
    data_server: ServedApp, tenant: ProvisionedTenant, frame: bytes
) -> None:
    document = f"robust-{uuid.uuid4()}"
    with (
        connected(data_server, document, tenant.api_key) as good,
        connected(data_server, document, tenant.api_key) as bad,
    ):
        good.insert("before ")
        bad.wait_text("before ")

        bad.send(frame)

        assert bad.wait_closed() == 4400
        good.insert("after")
        with connected(data_server, document, tenant.api_key) as newcomer:
            newcomer.wait_text("before after")
        assert good.pump().close_code is None


def test_text_frames_are_refused(data_server: ServedApp, tenant: ProvisionedTenant) -> None:
    with connected(data_server, "texty", tenant.api_key) as peer:
        peer.socket.send("hello")
        assert peer.wait_closed() == 4400


def test_an_update_that_would_corrupt_the_document_is_refused(
    data_server: ServedApp, tenant: ProvisionedTenant
) -> None:
    with (
        connected(data_server, "corruptible", tenant.api_key) as good,
        connected(data_server, "corruptible", tenant.api_key) as bad,
    ):
        good.share(crafted_target().get_update())
        wait_until(lambda: bad.pump().shared_text("t") == "hello", message="the target")

        bad.send(create_update_message(HALF_APPLYING_UPDATE))

        assert bad.wait_closed() == 4400
        good.insert("!", root="t")
        with connected(data_server, "corruptible", tenant.api_key) as newcomer:
            wait_until(lambda: newcomer.pump().shared_text("t") == "hello!", message="intact")


def test_a_client_that_vanishes_does_not_disturb_the_others(
    data_server: ServedApp, tenant: ProvisionedTenant
) -> None:
    with (
        connected(data_server, "vanishing", tenant.api_key) as staying,
        connected(data_server, "vanishing", tenant.api_key) as watching,
    ):
        vanishing = connected(data_server, "vanishing", tenant.api_key)
        vanishing.socket.socket.shutdown(socket.SHUT_RDWR)
        vanishing.socket.socket.close()
        for n in range(20):
            staying.insert(str(n % 10))
        watching.wait_text("01234567890123456789")
        vanishing.close()


def test_edits_survive_bad_clients_and_a_restart(
    start_plane: StartPlane, tenant: ProvisionedTenant
) -> None:
    plane = start_plane()
    with connected(plane, "durable", tenant.api_key) as good:
        good.insert("kept")
        for frame in MALFORMED_FRAMES.values():
            with connected(plane, "durable", tenant.api_key) as bad:
                bad.wait_text(good.text)
                bad.send(frame)
                assert bad.wait_closed() == 4400
            good.insert(".")
    plane.stop()

    restarted = start_plane()
    with connected(restarted, "durable", tenant.api_key) as fresh:
        fresh.wait_text("kept" + "." * len(MALFORMED_FRAMES))


def test_presence_is_forwarded_and_retracted(
    data_server: ServedApp, tenant: ProvisionedTenant
) -> None:
    with (
        connected(data_server, "presence", tenant.api_key) as watcher,
        connected(data_server, "presence", tenant.api_key) as leaving,
    ):
        leaving.send(awareness_message(4242, 1, {"user": "ada"}))
        wait_until(lambda: watcher.pump().awareness.get(4242) == (1, {"user": "ada"}))

        with connected(data_server, "presence", tenant.api_key) as newcomer:
            # told at once on connect, and again when it asks
            wait_until(lambda: newcomer.pump().awareness.get(4242) == (1, {"user": "ada"}))
            newcomer.awareness.clear()
            newcomer.send(QUERY_AWARENESS)
            wait_until(lambda: newcomer.pump().awareness.get(4242) == (1, {"user": "ada"}))

        leaving.close()
        wait_until(lambda: watcher.pump().awareness.get(4242) == (2, None), message="removal")


def test_tenants_never_share_a_document(
    data_server: ServedApp, tenant: ProvisionedTenant, other_tenant: ProvisionedTenant
) -> None:
    with connected(data_server, "plans", tenant.api_key) as mine:
        mine.insert("secret")
        with connected(data_server, "plans", other_tenant.api_key) as theirs:
            theirs.pump()
            assert theirs.text == ""
            theirs.insert("theirs")
            with connected(data_server, "plans", tenant.api_key) as mine_again:
                mine_again.wait_text("secret")
                assert mine.pump().text == "secret"


TRICKY_NAMES = ["../x", 'a"b', "other_schema.table", "%2e%2e%2fx", "x'; DROP TABLE y; --", "ü/ß"]


def test_document_names_are_only_names_inside_the_tenant(
    data_server: ServedApp,
    dataplane_database: PostgresURL,
    tenant: ProvisionedTenant,
    other_tenant: ProvisionedTenant,
) -> None:
    for name in TRICKY_NAMES:
        with connected(data_server, name, tenant.api_key) as peer:
            peer.insert(name)
    for name in TRICKY_NAMES:
        with connected(data_server, name, tenant.api_key) as peer:
            peer.wait_text(name)

    assert document_names(dataplane_database, tenant.tenant) == set(TRICKY_NAMES)
    assert document_names(dataplane_database, other_tenant.tenant) == set()


def test_a_revoked_key_is_disconnected_and_refused(
    data_server: ServedApp, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    key, prefix = add_key(dataplane_database, tenant.tenant)
    with (
        connected(data_server, "revocable", key) as revoked,
        connected(data_server, "revocable", tenant.api_key) as other,
    ):
        revoke_key(dataplane_database, prefix)

        assert revoked.wait_closed() == 4401
        with pytest.raises(InvalidStatus) as refused:
            WirePeer.connect(data_server.ws_url, "revocable", key)
        assert refused.value.response.status_code == 401
        other.insert("still here")
        with connected(data_server, "revocable", tenant.api_key) as reader:
            reader.wait_text("still here")


@pytest.mark.parametrize("api_key", [None, "", "nonsense", "whs_live_AAAAAAAAAAAA_" + "B" * 32])
def test_a_bad_or_missing_key_is_refused(data_server: ServedApp, api_key: str | None) -> None:
    with pytest.raises(InvalidStatus) as refused:
        WirePeer.connect(data_server.ws_url, "anything", api_key)
    assert refused.value.response.status_code == 401


def is_partly_folded(stored: StoredDocument, text: str) -> bool:
    return stored.snapshot_seq > 0 and len(stored.updates) < len(text) and stored.text == text


def test_compaction_folds_the_log_without_changing_the_document(
    start_plane: StartPlane, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    plane = start_plane(yjs=RoomOptions(compact_after=5))
    letters = "abcdefghijkl"
    with connected(plane, "compacted", tenant.api_key) as writer:
        for letter in letters:
            writer.insert(letter)
        # folded while clients are connected, every five updates
        wait_until(
            lambda: is_partly_folded(
                read_stored(dataplane_database, tenant.tenant, "compacted"), letters
            ),
            message="a compaction",
        )
    # and completely once the last client has left, before the room is let go
    wait_until(lambda: plane.plane.rooms.open_rooms == 0, message="the room released")
    stored = read_stored(dataplane_database, tenant.tenant, "compacted")
    assert stored.updates == []
    assert stored.snapshot is not None
    assert stored.text == letters
    with connected(plane, "compacted", tenant.api_key) as reader:
        reader.wait_text(letters)


def test_stopping_with_clients_connected_folds_their_document(
    start_plane: StartPlane, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    plane = start_plane()
    with connected(plane, "open-at-shutdown", tenant.api_key) as writer:
        writer.insert("unsaved?")
        with connected(plane, "open-at-shutdown", tenant.api_key) as reader:
            reader.wait_text("unsaved?")
            plane.stop()
            assert writer.wait_closed() in {1001, 1012}

    stored = read_stored(dataplane_database, tenant.tenant, "open-at-shutdown")
    assert stored.updates == []
    assert stored.text == "unsaved?"


def test_an_update_that_cannot_be_stored_is_not_applied_and_comes_back_on_reconnect(
    data_server: ServedApp, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    with (
        connected(data_server, "outage", tenant.api_key) as writer,
        connected(data_server, "outage", tenant.api_key) as reader,
    ):
        writer.insert("stored ")
        reader.wait_text("stored ")

        with refusing_updates(dataplane_database, tenant.tenant):
            writer.insert("unstored")
            assert writer.wait_closed() == 1011
            with connected(data_server, "outage", tenant.api_key) as newcomer:
                assert newcomer.text == "stored "

        # the client still holds its edit: its sync step 2 on reconnect carries it again
        again = WirePeer.connect(data_server.ws_url, "outage", tenant.api_key, doc=writer.doc)
        with again.wait_synced():
            reader.wait_text("stored unstored")
        assert reader.pump().close_code is None


def test_a_revocation_missed_while_the_listener_was_down_still_disconnects(
    data_server: ServedApp, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    key, prefix = add_key(dataplane_database, tenant.tenant)
    with connected(data_server, "listener-outage", key) as peer:
        terminated = query(
            dataplane_database,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND query LIKE 'LISTEN%'",
        )
        assert terminated
        # committed while no data plane listens: the notification itself is lost
        revoke_key(dataplane_database, prefix)
        assert peer.wait_closed() == 4401


def insert_until_closed(peer: WirePeer, values: list[str]) -> None:
    for value in values:
        try:
            peer.insert(value)
        except ConnectionClosed:
            return


def test_one_tenants_storage_failure_costs_other_tenants_nothing(
    data_server: ServedApp,
    dataplane_database: PostgresURL,
    tenant: ProvisionedTenant,
    other_tenant: ProvisionedTenant,
) -> None:
    slow = provision_tenant(dataplane_database)
    with (
        connected(data_server, "neighbours", tenant.api_key) as failing,
        connected(data_server, "neighbours", other_tenant.api_key) as healthy,
        connected(data_server, "neighbours", other_tenant.api_key) as watching,
        connected(data_server, "neighbours", slow.api_key) as stalling,
        refusing_updates(dataplane_database, tenant.tenant),
        slowing_updates(dataplane_database, slow.tenant, 1.0),
    ):
        # a slow commit holds the committer; what both tenants send meanwhile is stored by
        # the next transaction, together
        stalling.insert("slow")
        time.sleep(0.2)
        failing.insert("lost")
        healthy.insert("kept")

        assert failing.wait_closed() == 1011
        watching.wait_text("kept")
        assert healthy.pump().close_code is None
    assert read_stored(dataplane_database, other_tenant.tenant, "neighbours").text == "kept"

"""Large documents, the plan's document limit, clients that stop reading, presence floods."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycrdt import Doc, Text, create_awareness_message, create_update_message, write_var_uint
from websockets.exceptions import ConnectionClosed

from tests.data.yjs.documents import append_text
from tests.data.yjs.peers import StalledPeer, WirePeer, awareness_message
from tests.data.yjs.planes import StartedPlane, StartPlane
from tests.data.yjs.storage import read_stored
from tests.support.database import ProvisionedTenant, provision_tenant
from tests.support.polling import wait_until
from tests.support.servers import ServedApp
from webhost.data.tenancy.limits import TenantLimits
from webhost.data.yjs.room import MAX_AWARENESS_CLIENTS_PER_CONNECTION, RoomOptions
from webhost.db.urls import PostgresURL
from webhost.http.websocket import CLOSE_BAD_MESSAGE, CLOSE_GRACE_SECONDS, CLOSE_TOO_LARGE

KIB = 1024


def connected(plane: StartedPlane, document: str, api_key: str) -> WirePeer:
    return WirePeer.connect(plane.ws_url, document, api_key).wait_synced()


def text_of_size(size: int, seed: str = "x") -> str:
    return (seed * size)[:size]


def limited_tenant(database: PostgresURL, max_bytes: int) -> ProvisionedTenant:
    return provision_tenant(database, limits=TenantLimits(yjs_document_max_bytes=max_bytes))


def stored_size(database: PostgresURL, tenant: ProvisionedTenant, document: str) -> int:
    """The encoded size of the document storage holds."""
    stored = read_stored(database, tenant.tenant, document)
    doc: Doc[Any] = Doc()
    for chunk in [stored.snapshot, *stored.updates]:
        if chunk is not None:
            doc.apply_update(chunk)
    return len(doc.get_update())


def test_a_document_far_larger_than_the_backlog_limit_loads_for_every_newcomer(
    start_plane: StartPlane, tenant: ProvisionedTenant
) -> None:
    plane = start_plane(yjs=RoomOptions(max_backlog_bytes=256 * KIB))
    content = "".join(text_of_size(200 * KIB, str(n)) for n in range(8))
    with connected(plane, "large", tenant.api_key) as writer:
        for n in range(8):
            writer.insert(text_of_size(200 * KIB, str(n)))
        with connected(plane, "large", tenant.api_key) as newcomer:
            newcomer.wait_text(content)
            # and the newcomer still hears later edits, its first reply notwithstanding
            writer.insert("!")
            newcomer.wait_text(content + "!")
    plane.stop()

    restarted = start_plane(yjs=RoomOptions(max_backlog_bytes=256 * KIB))
    with connected(restarted, "large", tenant.api_key) as reader:
        reader.wait_text(content + "!")


@pytest.mark.slow
def test_a_twenty_mebibyte_document_loads_when_the_plan_allows_it(
    start_plane: StartPlane, dataplane_database: PostgresURL
) -> None:
    roomy = limited_tenant(dataplane_database, 32 * 1024 * KIB)
    content = "".join(text_of_size(2 * 1024 * KIB, str(n)) for n in range(10))
    plane = start_plane()
    with connected(plane, "twenty", roomy.api_key) as writer:
        for n in range(10):
            writer.insert(text_of_size(2 * 1024 * KIB, str(n)))
        with connected(plane, "twenty", roomy.api_key) as newcomer:
            newcomer.wait_text(content)
    plane.stop()

    with connected(start_plane(), "twenty", roomy.api_key) as reader:
        reader.wait_text(content)


def test_growth_past_the_plan_limit_is_refused_and_the_document_stays_loadable(
    start_plane: StartPlane, dataplane_database: PostgresURL
) -> None:
    small = limited_tenant(dataplane_database, 64 * KIB)
    plane = start_plane()
    with connected(plane, "capped", small.api_key) as writer:
        writer.insert(text_of_size(40 * KIB, "a"))
        with connected(plane, "capped", small.api_key) as reader:
            reader.wait_text(text_of_size(40 * KIB, "a"))
            writer.insert(text_of_size(40 * KIB, "b"))

            assert writer.wait_closed() == CLOSE_TOO_LARGE
            assert "64 KiB" in writer.close_reason or "limit" in writer.close_reason
            assert reader.pump().close_code is None
    with connected(plane, "capped", small.api_key) as newcomer:
        newcomer.wait_text(text_of_size(40 * KIB, "a"))

        # content replaced, not added: the real size is measured before anything is refused
        before = newcomer.doc.get_state()
        del newcomer.doc.get("text", type=Text)[0 : 40 * KIB]
        newcomer.send(create_update_message(newcomer.doc.get_update(before)))
        newcomer.insert(text_of_size(40 * KIB, "c"))
        with connected(plane, "capped", small.api_key) as check:
            check.wait_text(text_of_size(40 * KIB, "c"))
        assert newcomer.pump().close_code is None
    plane.stop()
    assert stored_size(dataplane_database, small, "capped") <= 64 * KIB


@pytest.fixture(scope="module")
def small_tenant(dataplane_database: PostgresURL) -> ProvisionedTenant:
    return limited_tenant(dataplane_database, 48 * KIB)


@settings(
    deadline=None,
    max_examples=8,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(st.one_of(st.integers(1, 30 * KIB), st.just(-1)), min_size=1, max_size=10))
def test_no_sequence_of_edits_takes_a_document_past_its_limit(
    data_server: ServedApp, small_tenant: ProvisionedTenant, edits: list[int]
) -> None:
    """Inserts of any size, and deletions of everything (-1), by a writer that reconnects
    whenever it is refused: what the server holds always loads and stays within the limit."""
    document = f"cap-{uuid.uuid4().hex[:8]}"
    peer = WirePeer.connect(data_server.ws_url, document, small_tenant.api_key).wait_synced()
    try:
        for edit in edits:
            if edit < 0:
                before = peer.doc.get_state()
                text = peer.doc.get("text", type=Text)
                del text[0 : len(text)]
                update = peer.doc.get_update(before)
            else:
                update = append_text(peer.doc, text_of_size(edit))
            try:
                peer.send(create_update_message(update))
                time.sleep(0.05)
            except ConnectionClosed:
                pass
            if peer.pump().close_code is not None:
                assert peer.close_code == CLOSE_TOO_LARGE
                peer.close()
                peer = WirePeer.connect(data_server.ws_url, document, small_tenant.api_key)
                peer.wait_synced()
        with WirePeer.connect(data_server.ws_url, document, small_tenant.api_key) as check:
            assert len(check.wait_synced().doc.get_update()) <= 48 * KIB
    finally:
        peer.close()


@pytest.mark.parametrize(
    "options",
    [
        RoomOptions(send_timeout_seconds=1.5),  # caught by the age of what it has not taken
        RoomOptions(send_timeout_seconds=600, max_backlog_bytes=256 * KIB),  # by its size
    ],
    ids=["send timeout", "backlog limit"],
)
def test_clients_that_stop_reading_are_cut_off_and_the_room_carries_on(
    start_plane: StartPlane, tenant: ProvisionedTenant, options: RoomOptions
) -> None:
    plane = start_plane(yjs=options)
    with (
        connected(plane, "stalls", tenant.api_key) as writer,
        connected(plane, "stalls", tenant.api_key) as reader,
    ):
        stalled = [StalledPeer(plane.ws_url, "stalls", tenant.api_key) for _ in range(5)]
        try:
            started = time.monotonic()
            expected = ""
            # 12 MiB: more than the kernel's socket buffers hold, so it piles up in ours
            for n in range(48):
                chunk = text_of_size(256 * KIB, str(n % 10))
                writer.insert(chunk)
                expected += chunk
                if n % 10 == 9:
                    # the room does not wait for them: a reading client keeps up throughout
                    reader.wait_text(expected)
            reader.wait_text(expected)
            assert time.monotonic() - started < 30

            time.sleep(min(options.send_timeout_seconds, 1.5) + CLOSE_GRACE_SECONDS + 1)
            for peer in stalled:
                assert peer.was_cut_off(within=5)
            writer.insert("still here")
            reader.wait_text(expected + "still here")
        finally:
            for peer in stalled:
                peer.close()


def test_a_presence_flood_closes_only_the_flooding_socket(
    data_server: ServedApp, tenant: ProvisionedTenant
) -> None:
    document = f"flood-{uuid.uuid4().hex[:8]}"
    with (
        WirePeer.connect(data_server.ws_url, document, tenant.api_key).wait_synced() as calm,
        WirePeer.connect(data_server.ws_url, document, tenant.api_key).wait_synced() as flood,
    ):
        flood.send(many_states_message(100_000))

        assert flood.wait_closed() == CLOSE_BAD_MESSAGE
        assert "states" in flood.close_reason
        calm.insert("unbothered")
        with WirePeer.connect(data_server.ws_url, document, tenant.api_key) as newcomer:
            newcomer.wait_text("unbothered")
            assert all(client_id < 100 for client_id in newcomer.pump().awareness)
        assert calm.pump().close_code is None


def many_states_message(count: int, *, state: str = '{"x":1}') -> bytes:
    encoded = state.encode()
    payload = [write_var_uint(count)]
    for client_id in range(1, count + 1):
        payload += [write_var_uint(client_id), write_var_uint(1)]
        payload += [write_var_uint(len(encoded)), encoded]
    return create_awareness_message(b"".join(payload))


def test_one_socket_may_announce_only_a_few_clients(
    data_server: ServedApp, tenant: ProvisionedTenant
) -> None:
    document = f"many-ids-{uuid.uuid4().hex[:8]}"
    with WirePeer.connect(data_server.ws_url, document, tenant.api_key).wait_synced() as peer:
        for client_id in range(1, MAX_AWARENESS_CLIENTS_PER_CONNECTION + 1):
            peer.send(awareness_message(client_id, 1, {"n": client_id}))
        wait_until(
            lambda: len(peer.pump().awareness) == MAX_AWARENESS_CLIENTS_PER_CONNECTION,
            message="every allowed client echoed",
        )
        peer.send(awareness_message(999, 1, {"n": 999}))
        assert peer.wait_closed() == CLOSE_BAD_MESSAGE


def test_an_oversized_presence_state_is_refused(
    data_server: ServedApp, tenant: ProvisionedTenant
) -> None:
    with WirePeer.connect(data_server.ws_url, "big-state", tenant.api_key).wait_synced() as peer:
        peer.send(awareness_message(7, 1, {"blob": "x" * 40_000}))
        assert peer.wait_closed() == CLOSE_BAD_MESSAGE
        assert "KiB" in peer.close_reason

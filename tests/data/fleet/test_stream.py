"""/v1/fleet/stream: batches over one socket, each acknowledged once committed."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.data.fleet.tracking import positions, track
from tests.data.yjs.planes import StartPlane
from tests.support.database import ProvisionedTenant, add_key, revoke_key
from tests.support.servers import ServedApp
from webhost.data.fleet.options import FleetOptions
from webhost.db.urls import PostgresURL


@contextmanager
def stream(ws_url: str, key: str, *, header: bool = False) -> Iterator[ClientConnection]:
    """A position stream authenticated by ``?token=`` (or the Authorization header)."""
    if header:
        opening = connect(
            f"{ws_url}/v1/fleet/stream",
            additional_headers={"Authorization": f"Bearer {key}"},
            proxy=None,
            open_timeout=20,
            max_size=None,
        )
    else:
        opening = connect(
            f"{ws_url}/v1/fleet/stream?token={quote(key, safe='')}",
            proxy=None,
            open_timeout=20,
            max_size=None,
        )
    with opening as socket:
        yield socket


def answer(socket: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(socket.recv(timeout=30))
    return message


def closed_with(socket: ClientConnection) -> int:
    """The close code, once the server closes the socket (answers before it are skipped)."""
    while True:
        try:
            socket.recv(timeout=30)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else 1006


def test_each_batch_is_acknowledged_once_stored(
    data_server: ServedApp, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    points = track("tram-4", 30)
    with stream(data_server.ws_url, tenant.api_key) as socket:
        socket.send(json.dumps({"id": 1, "points": points[:20]}))
        socket.send(json.dumps({"id": "b-2", "points": points[10:]}))
        first, second = answer(socket), answer(socket)
        assert first == {"type": "ack", "id": 1, "accepted": 20, "duplicates": 0, "rejected": []}
        assert second == {
            "type": "ack",
            "id": "b-2",
            "accepted": 10,
            "duplicates": 10,
            "rejected": [],
        }
        # acknowledged means committed: every point is there already
        assert len(positions(dataplane_database, tenant)) == 30
        socket.send(json.dumps({"id": 3, "points": [{"vehicle": "tram-4"}]}))
        rejected = answer(socket)
        assert rejected["type"] == "ack"
        assert rejected["rejected"][0]["index"] == 0


def test_frames_that_are_not_batches_get_errors_and_the_socket_stays(
    data_server: ServedApp, tenant: ProvisionedTenant
) -> None:
    with stream(data_server.ws_url, tenant.api_key, header=True) as socket:
        for frame, code in [
            ("{", "bad_request"),
            ("[1, 2]", "bad_request"),
            ('{"id": 4}', "invalid_input"),
            ('{"id": 5, "points": {}}', "invalid_input"),
            ('{"id": 6, "points": [], "extra": 1}', "invalid_input"),
            ('{"id": true, "points": []}', "invalid_input"),
            ("[" * 100_000 + "]" * 100_000, "invalid_input"),
        ]:
            socket.send(frame)
            error = answer(socket)
            assert error["type"] == "error", frame[:40]
            assert error["error"]["code"] == code, (frame[:40], error)
        socket.send(b"\x00binary")
        assert answer(socket)["error"]["code"] == "bad_request"
        too_many = json.dumps({"id": 7, "points": track("x", 10_001)})
        socket.send(too_many)
        refused = answer(socket)
        assert (refused["id"], refused["error"]["code"]) == (7, "payload_too_large")
        socket.send(json.dumps({"id": 8, "points": track("x", 2)}))
        assert answer(socket)["accepted"] == 2


def test_a_batch_past_the_point_rate_is_refused_with_when_to_retry(
    data_server: ServedApp, limited_tenant: Callable[..., ProvisionedTenant]
) -> None:
    slow = limited_tenant(gps_points_per_second=5)
    with stream(data_server.ws_url, slow.api_key) as socket:
        socket.send(json.dumps({"id": 1, "points": track("a", 50)}))
        assert answer(socket)["accepted"] == 50
        socket.send(json.dumps({"id": 2, "points": track("b", 1)}))
        refused = answer(socket)
        assert refused["type"] == "error"
        assert (refused["id"], refused["error"]["code"]) == (2, "rate_limited")
        assert 1 <= refused["retry_after"] <= 10


def test_an_oversized_frame_closes_the_socket_with_4413(
    start_plane: StartPlane, tenant: ProvisionedTenant
) -> None:
    started = start_plane(fleet=FleetOptions(max_batch_bytes=64 * 1024))
    with stream(started.ws_url, tenant.api_key) as socket:
        socket.send(json.dumps({"id": 1, "points": track("x", 2)}))
        assert answer(socket)["accepted"] == 2
        frame = json.dumps({"id": 2, "points": track("x", 600)})
        assert 64 * 1024 < len(frame) < 128 * 1024
        socket.send(frame)
        assert closed_with(socket) == 4413


def test_device_keys_stream_and_wrong_keys_are_refused(
    data_server: ServedApp, device_key: str
) -> None:
    with stream(data_server.ws_url, device_key) as socket:
        socket.send(json.dumps({"id": 1, "points": track("phone", 3)}))
        assert answer(socket)["accepted"] == 3
    with pytest.raises(InvalidStatus) as refused, stream(data_server.ws_url, device_key[:-1] + "x"):
        pass
    assert refused.value.response.status_code == 401


def test_revoking_the_key_closes_the_stream(
    data_server: ServedApp, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    key, prefix = add_key(dataplane_database, tenant.tenant, scope="ingest")
    with stream(data_server.ws_url, key) as socket:
        socket.send(json.dumps({"id": 1, "points": track("phone", 1)}))
        assert answer(socket)["accepted"] == 1
        revoke_key(dataplane_database, prefix)
        assert closed_with(socket) == 4401

"""The edge passes requests to the plane a deployment's slug names: paths, bodies, keep-alive,
streams and WebSockets intact; bad input gets a clear refusal and the edge goes on serving."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.sync.client import connect

from tests.edge.conftest import Edge, decoded

ONE = "/d/aaaa000000000001"
TWO = "/d/bbbb000000000002"


def test_the_prefix_goes_and_the_rest_of_the_target_stays(edge: Edge) -> None:
    with httpx.Client(base_url=edge.url) as client:
        seen = decoded(client.get(f"{ONE}/v1/collections/a%20b/records?limit=5&order=id").text)
        assert seen["path"] == "/v1/collections/a b/records"
        assert seen["query"] == "limit=5&order=id"
        assert decoded(client.get(ONE).text)["path"] == "/"
        assert decoded(client.get(f"{ONE}?token=x").text)["query"] == "token=x"
        # a plane served under a path of its own gets it in front
        assert decoded(client.get(f"{TWO}/v1/x").text)["path"] == "/base/v1/x"


def test_forwarding_headers_say_who_asked_and_under_which_prefix(edge: Edge) -> None:
    with httpx.Client(base_url=edge.url) as client:
        headers = decoded(client.get(f"{ONE}/h", headers={"X-Forwarded-For": "203.0.113.9"}).text)[
            "headers"
        ]
    assert isinstance(headers, dict)
    assert headers["x-forwarded-for"] == "203.0.113.9, 127.0.0.1"
    assert headers["x-forwarded-prefix"] == ONE


def test_bodies_pass_whole_with_a_length_or_chunked(edge: Edge) -> None:
    payload = "x" * 300_000
    with httpx.Client(base_url=edge.url) as client:
        sized = decoded(client.post(f"{ONE}/records", content=payload).text)
        assert sized["body"] == payload
        chunked = decoded(
            client.post(f"{ONE}/records", content=iter([b"abc", b"def" * 40_000])).text
        )
        assert chunked["body"] == "abc" + "def" * 40_000
        assert client.head(f"{ONE}/records").status_code == 200


def test_one_keep_alive_connection_serves_many_requests_and_both_planes(edge: Edge) -> None:
    with httpx.Client(base_url=edge.url) as client:
        for number in range(60):
            prefix = ONE if number % 3 else TWO
            response = client.get(f"{prefix}/n/{number}")
            assert response.status_code == 200
            assert decoded(response.text)["path"].endswith(f"/n/{number}")  # type: ignore[union-attr]


def test_a_streamed_response_arrives_as_it_is_produced(edge: Edge) -> None:
    with (
        httpx.Client(base_url=edge.url, timeout=30) as client,
        client.stream("GET", f"{ONE}/stream") as response,
    ):
        lines = response.iter_lines()
        assert next(lines) == "first"  # before the upstream has finished
        edge.release_stream("one")
        assert next(lines) == "second"


def test_websockets_are_spliced_both_ways(edge: Edge) -> None:
    ws_url = "ws" + edge.url.removeprefix("http")
    with connect(f"{ws_url}{ONE}/socket", open_timeout=10) as socket_:
        for number in range(20):
            socket_.send(f"hello {number}")
            assert socket_.recv(timeout=10) == f"echo hello {number}"
        socket_.send("bye")


def test_unknown_deployments_and_unreachable_planes_get_clear_errors(edge: Edge) -> None:
    with httpx.Client(base_url=edge.url) as client:
        unknown = client.get("/d/ffff000000000000/v1/collections")
        assert unknown.status_code == 404
        assert (
            "no deployment is served at /d/ffff000000000000" in unknown.json()["error"]["message"]
        )
        assert client.get("/v1/collections").status_code == 404
        down = client.get("/d/dead000000000003/v1/collections")
        assert down.status_code == 503
        assert down.headers["retry-after"] == "2"
        assert client.get("/health").json() == {"status": "ok"}


def raw_exchange(edge: Edge, data: bytes) -> bytes:
    address = urlsplit(edge.url)
    assert address.hostname is not None
    assert address.port is not None
    with socket.create_connection((address.hostname, address.port), timeout=10) as raw:
        raw.sendall(data)
        raw.shutdown(socket.SHUT_WR)
        received = b""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (chunk := raw.recv(65536)):
            received += chunk
        return received


def test_malformed_heads_are_refused_with_400(edge: Edge) -> None:
    for request in (
        b"GARBAGE\r\n\r\n",
        b"GET nothing HTTP/1.1\r\n\r\n",
        b"GET /d/aaaa000000000001/ HTTP/1.1\r\nno colon here\r\n\r\n",
        b"POST /d/aaaa000000000001/ HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc",
        b"POST /d/aaaa000000000001/ HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"GET /d/aaaa000000000001/ HTTP/1.1\r\nX: " + b"y" * 70_000 + b"\r\n\r\n",
    ):
        answer = raw_exchange(edge, request)
        assert answer.startswith(b"HTTP/1.1 400 "), (request[:60], answer[:200])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(garbage=st.binary(min_size=1, max_size=2000))
def test_generated_garbage_never_stops_the_edge(edge: Edge, garbage: bytes) -> None:
    answer = raw_exchange(edge, garbage + b"\r\n\r\n")
    assert answer == b"" or answer.startswith(b"HTTP/1.1 ")
    with httpx.Client(base_url=edge.url) as client:
        assert client.get(f"{ONE}/still").status_code == 200

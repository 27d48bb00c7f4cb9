"""What uvicorn itself refuses still gets WebHost's JSON error body, never plain text."""

from __future__ import annotations

import contextlib
import json
import socket

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.servers import ServedApp
from webhost.http.server import MAX_URL_BYTES


def exchange(server: ServedApp, request: bytes, *, last: bool = False) -> bytes:
    """Send raw bytes, read the whole answer until the server closes. ``last`` also closes
    our side, so a request the server cannot complete ends at once (uvicorn then drops the
    connection, which a complete request would suffer too)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as connection:
        # refused before the request was written out: the answer is still there to read
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            connection.sendall(request)
            if last:
                connection.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            try:
                chunk = connection.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def parsed(response: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = response.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in header_lines)
    }
    return int(status_line.split()[1]), headers, body


def test_a_url_past_the_limit_gets_414_with_a_json_error(data_server: ServedApp) -> None:
    path = "/v1/collections/posts/records?title=eq." + "x" * MAX_URL_BYTES
    status, headers, body = parsed(
        exchange(data_server, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode(), last=True)
    )

    assert status == 414
    assert headers["content-type"] == "application/json"
    error = json.loads(body)["error"]
    assert error["code"] == "uri_too_long"
    assert str(MAX_URL_BYTES) in error["message"]


def test_a_url_within_the_limit_reaches_the_application(data_server: ServedApp) -> None:
    path = "/v1/collections/posts/records?title=eq." + "x" * (MAX_URL_BYTES - 100)
    request = f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    status, _, body = parsed(exchange(data_server, request.encode()))
    assert status == 401  # the application answered: no key
    assert json.loads(body)["error"]["code"] == "unauthorized"


REQUEST_PARTS = st.one_of(
    st.binary(max_size=200),
    st.sampled_from([b"GET", b"POST", b"G\x00T", b"\xff\xfe", b"HTTP/9.9", b" ", b"\r\n"]),
    st.text(max_size=50).map(lambda text: text.encode("utf-8", "surrogatepass")),
)


@settings(
    deadline=None, max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(REQUEST_PARTS, min_size=1, max_size=6))
def test_malformed_requests_get_a_json_error_or_nothing(
    data_server: ServedApp, parts: list[bytes]
) -> None:
    response = exchange(data_server, b"".join(parts) + b"\r\n\r\n", last=True)
    if not response:
        return  # a request that never completes is simply not answered
    status, headers, body = parsed(response)
    assert status < 500
    if status >= 400:
        assert headers.get("content-type") == "application/json", response[:300]
        assert json.loads(body)["error"]["message"]

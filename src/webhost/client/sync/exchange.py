"""One HTTP exchange of the sync protocol, sorted into what the engine does next: go on, retry
later with the same request, or give up on the request."""

from __future__ import annotations

from typing import Any

import httpx

from webhost.client.errors import ApiError, ServerUnreachable
from webhost.client.transport import json_body, request

# refusals of the request itself: sending it again cannot help, anything else might
_REFUSALS = frozenset({400, 413, 422})


class RetryLater(Exception):
    """No usable answer: the network, the server, or a passing refusal."""


class KeyRefused(RetryLater):
    """The API key is unknown or revoked: nothing will work until the app has another."""


async def post(http: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST a sync request; raises ApiError when the server refuses this very request (it is
    malformed or too large), RetryLater for everything else (a 404 too: a server that does
    not sync yet is no reason to drop local writes)."""
    try:
        response = await request(http, "POST", path, json=body)
    except ServerUnreachable as exc:
        raise RetryLater(str(exc)) from exc
    except ApiError as error:
        if error.status in (401, 403):
            raise KeyRefused(str(error)) from error
        if error.status not in _REFUSALS:
            raise RetryLater(str(error)) from error
        raise
    answer = json_body(response)
    if not isinstance(answer, dict):
        raise RetryLater(f"{path} answered with {type(answer).__name__}, not an object")
    return answer


async def server_position(http: httpx.AsyncClient) -> dict[str, Any]:
    """``GET /v1/sync``: the protocol version, the limits and the server's clock."""
    try:
        response = await request(http, "GET", "/v1/sync")
    except ServerUnreachable as exc:
        raise RetryLater(str(exc)) from exc
    except ApiError as error:
        if error.status in (401, 403):
            raise KeyRefused(str(error)) from error
        raise RetryLater(str(error)) from error
    answer = json_body(response)
    if not isinstance(answer, dict):
        raise RetryLater("GET /v1/sync answered with something other than an object")
    return answer

"""The HTTP side of the client: one connection pool, the API key in a header, errors typed."""

from __future__ import annotations

import json
from typing import Any

import httpx

from webhost.client.errors import ApiError, ServerUnreachable

# a REST call waits this long for an answer; a push waits for its commit, which is quick
DEFAULT_TIMEOUT_SECONDS = 30.0


def authorization(api_key: str) -> dict[str, str]:
    """The key travels in a header, never in a URL, so it stays out of logs and errors."""
    return {"Authorization": f"Bearer {api_key}"}


def open_http(
    api_url: str, api_key: str, timeout: float = DEFAULT_TIMEOUT_SECONDS
) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=api_url.rstrip("/"),
        headers=authorization(api_key),
        timeout=timeout,
        trust_env=False,
    )


async def request(http: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """Send one request; an error status raises ``ApiError``, no answer ``ServerUnreachable``."""
    try:
        response = await http.request(method, path, **kwargs)
    except httpx.TransportError as exc:
        raise ServerUnreachable(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
    if response.status_code >= 400:
        raise api_error(response)
    return response


def api_error(response: httpx.Response) -> ApiError:
    """The platform's error body when there is one, else the status and the start of the text."""
    try:
        error = response.json()["error"]
        return ApiError(
            response.status_code, str(error["code"]), str(error["message"]), error.get("details")
        )
    except (ValueError, KeyError, TypeError):
        text = response.text[:200]
        return ApiError(response.status_code, "http_error", text or response.reason_phrase)


def json_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except json.JSONDecodeError as exc:
        raise ApiError(response.status_code, "bad_response", f"not JSON: {exc}") from exc

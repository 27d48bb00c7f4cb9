"""Strict JSON request bodies for endpoints that accept free-form objects."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from webhost.errors import BadRequest, InvalidInput


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


async def read_json_object(request: Request) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "application/json")
    if "json" not in content_type.split(";")[0]:
        raise BadRequest(f"send the body as application/json, not {content_type!r}")
    raw = await request.body()
    if not raw.strip():
        raise BadRequest("request body is empty: send a JSON object")
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest("request body is not UTF-8 text") from exc
    try:
        value = json.loads(decoded, parse_constant=_reject_constant)
    except ValueError as exc:
        raise BadRequest(f"request body is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise InvalidInput(f"request body must be a JSON object, not {type(value).__name__}")
    return value

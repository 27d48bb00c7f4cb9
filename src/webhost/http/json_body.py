"""Strict JSON request bodies for endpoints that accept free-form objects."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from webhost.errors import BadRequest, InvalidInput
from webhost.validation import load_json, parse_json


def is_json_media_type(content_type: str) -> bool:
    """``application/json`` or ``application/*+json``, parameters aside, in any letter case."""
    media_type = content_type.partition(";")[0].strip().lower()
    main_type, _, subtype = media_type.partition("/")
    return main_type == "application" and (subtype == "json" or subtype.endswith("+json"))


async def read_json_object(request: Request, *, check_values: bool = True) -> dict[str, Any]:
    """The body as a JSON object; ``check_values=False`` leaves the checks of ``check_json``
    to the caller (a sync push refuses bad values mutation by mutation)."""
    content_type = request.headers.get("content-type", "application/json")
    if not is_json_media_type(content_type):
        raise BadRequest(f"send the body as application/json, not {content_type!r}")
    raw = await request.body()
    if not raw.strip():
        raise BadRequest("request body is empty: send a JSON object")
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest("request body is not UTF-8 text") from exc
    try:
        value = (
            load_json(decoded, what="request body")
            if check_values
            else parse_json(decoded, what="request body")
        )
    except ValueError as exc:
        raise BadRequest(f"request body is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise InvalidInput(f"request body must be a JSON object, not {type(value).__name__}")
    return value

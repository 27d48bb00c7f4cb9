"""Stripe's request parameters: form bodies in bracket notation, checked the way Stripe does.

``a[b]=1&items[0][price]=p&expand[]=x`` becomes ``{"a": {"b": "1"}, "items": [{"price": "p"}],
"expand": ["x"]}``; arrays are indexed from 0 without gaps. Bad parameters raise
``StripeFailure`` with Stripe's wording, status and ``param``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
METADATA_KEYS = 50
METADATA_KEY_LENGTH = 40
METADATA_VALUE_LENGTH = 500

Params = dict[str, Any]


class StripeFailure(Exception):
    """An error answer: ``{"error": {"type", "message", "code"?, "param"?}}`` with its status."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type
        self.code = code
        self.param = param
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.error_type, "message": self.message}
        if self.code is not None:
            error["code"] = self.code
        if self.param is not None:
            error["param"] = self.param
        return {"error": error}


def invalid(message: str, param: str | None = None, *, code: str | None = None) -> StripeFailure:
    return StripeFailure(400, message, param=param, code=code)


def no_such(kind: str, object_id: str, param: str, *, status: int = 400) -> StripeFailure:
    """A reference to a missing object: 400 in a parameter, 404 in the URL."""
    return StripeFailure(
        status, f"No such {kind}: '{object_id}'", code="resource_missing", param=param
    )


def parse_form(text: str) -> Params:
    root: dict[str, Any] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        _assign(root, _path_of(key), value, key)
    result = _with_arrays(root, "")
    assert isinstance(result, dict)
    return result


def _path_of(key: str) -> list[str]:
    match = _KEY.match(key)
    if match is None:
        raise invalid(f"Invalid parameter name: {key}", key)
    return [match.group(1), *_SEGMENT.findall(match.group(2))]


def _assign(node: dict[str, Any], path: list[str], value: str, key: str) -> None:
    for depth, segment in enumerate(path):
        if segment == "":
            segment = str(len(node))  # "a[]" appends
        if depth == len(path) - 1:
            if isinstance(node.get(segment), dict):
                raise invalid(f"Invalid object: {key} is given both as a value and a hash", key)
            node[segment] = value  # a repeated key: the last one wins
            return
        child = node.setdefault(segment, {})
        if not isinstance(child, dict):
            raise invalid(f"Invalid object: {key} is given both as a value and a hash", key)
        node = child


def _with_arrays(value: Any, name: str) -> Any:
    """Hashes whose keys are all indexes become lists."""
    if not isinstance(value, dict):
        return value
    converted = {
        key: _with_arrays(child, f"{name}[{key}]" if name else key) for key, child in value.items()
    }
    if converted and all(key.isdigit() for key in converted):
        indexes = sorted(int(key) for key in converted)
        if indexes != list(range(len(indexes))):
            raise invalid(f"Invalid array: {name} must be indexed from 0 without gaps", name)
        return [converted[str(index)] for index in indexes]
    return converted


def refuse_unknown(params: Params, allowed: set[str], *, where: str = "") -> None:
    for key in params:
        if key not in allowed:
            param = qualified(where, key)
            raise invalid(f"Received unknown parameter: {param}", param)


def qualified(where: str, name: str) -> str:
    """``name`` inside the parameter ``where``, as Stripe names it in errors."""
    return f"{where}[{name}]" if where else name


def required(params: Params, name: str, *, where: str = "") -> str:
    value = optional(params, name, where=where)
    if value is None or value == "":
        param = qualified(where, name)
        raise invalid(f"Missing required param: {param}.", param)
    return value


def optional(params: Params, name: str, *, where: str = "") -> str | None:
    value = params.get(name)
    if value is not None and not isinstance(value, str):
        param = qualified(where, name)
        raise invalid(f"Invalid string: {param} must be a string", param)
    return value


def hash_of(params: Params, name: str, *, where: str = "") -> Params:
    value = params.get(name, {})
    if not isinstance(value, dict):
        param = qualified(where, name)
        raise invalid(f"Invalid object: {param} must be a hash", param)
    return value


def list_of_hashes(params: Params, name: str) -> list[Params]:
    value = params.get(name, [])
    if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
        raise invalid(f"Invalid array: {name} must be an array of hashes", name)
    return value


def boolean(value: str, name: str) -> bool:
    if value not in ("true", "false"):
        raise invalid(f"Invalid boolean: {value}", name)
    return value == "true"


def integer(value: str, name: str, *, minimum: int) -> int:
    if not re.fullmatch(r"-?[0-9]{1,15}", value):
        raise invalid(f"Invalid integer: {value}", name)
    number = int(value)
    if number < minimum:
        raise invalid(f"Invalid {name}: must be at least {minimum}", name)
    return number


def one_of(value: str, name: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        listed = ", ".join(choices[:-1]) + f", or {choices[-1]}"
        raise invalid(f"Invalid {name}: must be one of {listed}", name)
    return value


def url(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise invalid("Not a valid URL", name)
    return value


def email(value: str | None, name: str) -> str | None:
    if value is not None and value != "" and not _EMAIL.match(value):
        raise invalid(f"Invalid email address: {value}", name)
    return value or None


def metadata(params: Params, name: str = "metadata", *, where: str = "") -> dict[str, str]:
    """Stripe's limits: 50 keys, keys up to 40 characters, values up to 500; "" unsets."""
    given = hash_of(params, name, where=where)
    param = qualified(where, name)
    if len(given) > METADATA_KEYS:
        raise invalid(f"Invalid {param}: at most {METADATA_KEYS} keys are allowed", param)
    for key, value in given.items():
        if not isinstance(value, str):
            raise invalid(f"Invalid {param}[{key}]: metadata values must be strings", param)
        if len(key) > METADATA_KEY_LENGTH:
            raise invalid(
                f"Invalid {param}: keys must be at most {METADATA_KEY_LENGTH} characters", param
            )
        if len(value) > METADATA_VALUE_LENGTH:
            raise invalid(
                f"Invalid {param}[{key}]: values must be at most "
                f"{METADATA_VALUE_LENGTH} characters",
                f"{param}[{key}]",
            )
    return given


def merged_metadata(current: dict[str, str], update: dict[str, str]) -> dict[str, str]:
    merged = current | update
    return {key: value for key, value in merged.items() if value != ""}

"""Batches of points as they arrive: a JSON array, or NDJSON (one point a line).

A batch is refused whole only when it cannot be read as a list of items at all, or holds more
than ``MAX_POINTS``; after that every item stands alone (``candidates``), so one bad point,
even an unreadable NDJSON line, never costs the others.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from webhost.data.fleet.points import (
    PointRejected,
    Position,
    Rejection,
    identifier_problem,
    parse_point,
)
from webhost.errors import BadRequest, InvalidInput, PayloadTooLarge
from webhost.http.json_body import is_json_media_type
from webhost.validation import MAX_JSON_DEPTH

MAX_POINTS = 10_000
NDJSON_TYPES = frozenset({"application/x-ndjson", "application/ndjson", "application/jsonl"})


@dataclass(frozen=True, slots=True)
class Unreadable:
    """An NDJSON line that is not JSON: rejected as a point, the other lines still count."""

    reason: str
    too_deep: bool = False


# what a batch carries before its checks: a Position, or why its item is not one
Candidate = Position | Rejection


def read_batch(raw: bytes, content_type: str | None) -> list[Any]:
    """The items of a request body; NaN and Infinity are read, to be refused point by point."""
    media_type = (content_type or "application/json").partition(";")[0].strip().lower()
    ndjson = media_type in NDJSON_TYPES
    if not ndjson and not is_json_media_type(media_type):
        raise BadRequest(
            f"send points as application/json (an array) or application/x-ndjson, "
            f"not {content_type!r}"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("request body is not UTF-8 text") from None
    if not text.strip():
        raise BadRequest("request body is empty: send a JSON array of points, or NDJSON")
    if ndjson:
        return _read_lines(text)
    items = _loads(text)
    if isinstance(items, Unreadable):
        if items.too_deep:
            raise InvalidInput(f"request body {items.reason}")
        raise BadRequest(f"request body is not valid JSON: {items.reason}")
    if not isinstance(items, list):
        raise InvalidInput("request body must be a JSON array of points (or NDJSON)")
    check_count(len(items))
    return items


def check_count(count: int) -> None:
    if count > MAX_POINTS:
        raise PayloadTooLarge(
            f"a batch holds {count} points; one request may send at most {MAX_POINTS}"
        )


def candidates(items: Sequence[Any]) -> list[Candidate]:
    """Each item read as a point of our API, or rejected with its reason."""
    found: list[Candidate] = []
    for index, item in enumerate(items):
        if isinstance(item, Unreadable):
            reason = item.reason if item.too_deep else f"not valid JSON: {item.reason}"
            found.append(Rejection(index, None, reason))
            continue
        try:
            found.append(parse_point(item))
        except PointRejected as rejected:
            found.append(Rejection(index, vehicle_of(item), rejected.reason, rejected.code))
    return found


def vehicle_of(item: Any) -> str | None:
    """The item's vehicle identifier, when it is one that can be echoed back."""
    vehicle = item.get("vehicle") if isinstance(item, dict) else None
    if isinstance(vehicle, str) and identifier_problem(vehicle) is None:
        return vehicle
    return None


def _read_lines(text: str) -> list[Any]:
    # only "\n" ends a line: JSON text may hold U+2028 and the other breaks splitlines knows
    lines = [line for line in text.split("\n") if line.strip()]
    check_count(len(lines))
    return [_loads(line) for line in lines]


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        # the parser gives up near Python's recursion limit, far past MAX_JSON_DEPTH
        return Unreadable(
            f"nests objects and arrays too deeply (at most {MAX_JSON_DEPTH} levels)", True
        )
    except ValueError as exc:
        return Unreadable(str(exc))

"""A GPS position and its rules, written once for every way positions arrive.

The batch endpoint and the stream read our JSON point objects (``parse_point``); OsmAnd reads
its own parameters (osmand.py). Both end in a ``Position`` that ``check_position`` holds to the
same bounds, so a point is stored, or rejected with its reason, the same way whatever brought it.
Units are ours: speed km/h, heading degrees, altitude and accuracy metres, battery percent.
"""

from __future__ import annotations

import functools
import json
import math
import re
import struct
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from webhost.errors import InvalidInput
from webhost.validation import check_json, text_problem

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
MAX_AHEAD = timedelta(days=1)
# an epoch number this large is milliseconds: 1e11 seconds is the year 5138, 1e11 ms is 1973
MILLISECONDS_FROM = 1e11
MAX_IDENTIFIER_LENGTH = 128
MAX_TIME_TEXT = 64
MAX_SPEED_KMH = 10_000.0
MAX_ABS_ALTITUDE_M = 1_000_000.0
MAX_ACCURACY_M = 10_000_000.0
MAX_ATTRIBUTES_BYTES = 8192

POINT_FIELDS = frozenset(
    {
        "vehicle",
        "time",
        "latitude",
        "longitude",
        "speed",
        "heading",
        "altitude",
        "accuracy",
        "battery",
        "attributes",
    }
)
_NUMBERS = ("latitude", "longitude", "speed", "heading", "altitude", "accuracy", "battery")
_SLASH_OR_CONTROL = re.compile(r"[/\x00-\x1f\x7f]")
# each number's bounds, in the order their problems are reported
_BOUNDS = (
    ("latitude", -90.0, 90.0, ""),
    ("longitude", -180.0, 180.0, ""),
    ("speed", 0.0, MAX_SPEED_KMH, " km/h"),
    ("heading", 0.0, 360.0, " degrees"),
    ("altitude", -MAX_ABS_ALTITUDE_M, MAX_ABS_ALTITUDE_M, " m"),
    ("accuracy", 0.0, MAX_ACCURACY_M, " m"),
    ("battery", 0.0, 100.0, " percent"),
)
# float4 keeps every heading below this as less than 360 (its spacing there is 3e-5)
_BELOW_360_AS_REAL = 359.999


class PointRejected(Exception):
    """One point cannot be stored; ``reason`` says why, for the client."""

    def __init__(self, reason: str, code: str = "invalid_point") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass(frozen=True, slots=True)
class Position:
    vehicle: str
    device_time: datetime
    latitude: float
    longitude: float
    speed: float | None = None
    heading: float | None = None
    altitude: float | None = None
    accuracy: float | None = None
    battery: float | None = None
    attributes: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Rejection:
    """A point of a batch that was not stored: its place in the batch, and why."""

    index: int
    vehicle: str | None
    reason: str
    code: str = "invalid_point"

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "vehicle": self.vehicle,
            "code": self.code,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """Device times a point may have: from 2000 (or the plan's retention) to a day ahead."""

    earliest: datetime
    latest: datetime
    retention_days: int | None = None

    @classmethod
    def at(cls, now: datetime, retention_days: int | None) -> TimeWindow:
        earliest = EARLIEST
        if retention_days is not None:
            earliest = max(earliest, now - timedelta(days=retention_days))
        return cls(earliest=earliest, latest=now + MAX_AHEAD, retention_days=retention_days)


def identifier_problem(value: str) -> str | None:
    """Why ``value`` cannot name a vehicle, or None. Identifiers appear in URL paths, so they
    hold no '/' and no control characters."""
    if not 1 <= len(value) <= MAX_IDENTIFIER_LENGTH:
        return f"is {len(value)} characters long; identifiers have 1 to {MAX_IDENTIFIER_LENGTH}"
    return _character_problem(value)


@functools.lru_cache(maxsize=4096)
def _character_problem(value: str) -> str | None:
    """Cached: a batch names its few vehicles over and over (and each is short)."""
    problem = text_problem(value)
    if problem is not None:
        return problem
    if _SLASH_OR_CONTROL.search(value):
        return "contains '/' or a control character"
    return None


def parse_point(raw: Any) -> Position:
    """A point object of our API (the bounds are ``check_position``'s)."""
    if not isinstance(raw, dict):
        raise PointRejected(f"a point is a JSON object, not {_kind(raw)}")
    if not POINT_FIELDS.issuperset(raw):
        unknown = sorted(set(raw) - POINT_FIELDS)
        raise PointRejected(
            f"unknown field {json.dumps(unknown[0])}; a point has {', '.join(sorted(POINT_FIELDS))}"
        )
    vehicle = raw.get("vehicle")
    if not isinstance(vehicle, str):
        raise PointRejected(
            f"vehicle must be the vehicle's identifier (text), not {_kind(vehicle)}"
        )
    numbers: dict[str, float | None] = {}
    for name in _NUMBERS:
        value = raw.get(name)
        # JSON's decimals arrive as floats: the common case skips the checks of number()
        numbers[name] = value if type(value) is float else number(value, name)
    latitude, longitude = numbers.pop("latitude"), numbers.pop("longitude")
    if latitude is None or longitude is None:
        raise PointRejected("latitude and longitude are required")
    attributes = raw.get("attributes")
    if attributes is not None and not isinstance(attributes, dict):
        raise PointRejected(f"attributes must be a JSON object, not {_kind(attributes)}")
    return Position(
        vehicle=vehicle,
        device_time=parse_time(raw.get("time")),
        latitude=latitude,
        longitude=longitude,
        attributes=attributes,
        **numbers,
    )


def number(value: Any, name: str) -> float | None:
    """A JSON number as a float; None when absent or null."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PointRejected(f"{name} must be a number, not {_kind(value)}")
    try:
        return float(value)
    except OverflowError:
        raise PointRejected(f"{name} is out of range") from None


def parse_time(value: Any) -> datetime:
    """RFC 3339 text with an offset, or epoch seconds or milliseconds (told by magnitude)."""
    if value is None:
        raise PointRejected("time is required: RFC 3339 text, or epoch seconds or milliseconds")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PointRejected(f"time must be RFC 3339 text or an epoch number, not {_kind(value)}")
    if isinstance(value, str):
        return parse_time_text(value, assume_utc=False)
    return from_epoch(value)


def from_epoch(value: float) -> datetime:
    if isinstance(value, float) and not math.isfinite(value):
        raise PointRejected("time must be a finite number")
    try:
        if abs(value) >= MILLISECONDS_FROM:
            return EPOCH + timedelta(milliseconds=value)
        return EPOCH + timedelta(seconds=value)
    except OverflowError:
        raise PointRejected("time is out of range") from None


def parse_time_text(value: str, *, assume_utc: bool) -> datetime:
    """ISO 8601 / RFC 3339 date-time text; without an offset it is UTC only if ``assume_utc``."""
    problem = text_problem(value)
    if problem is not None:
        raise PointRejected(f"time {problem}")
    if len(value) > MAX_TIME_TEXT:
        raise PointRejected(f"time is not an RFC 3339 date-time (over {MAX_TIME_TEXT} characters)")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise PointRejected(f"time {json.dumps(value)} is not an RFC 3339 date-time") from None
    if moment.tzinfo is None:
        if not assume_utc:
            raise PointRejected(f"time {json.dumps(value)} needs an offset (Z or +hh:mm)")
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise PointRejected("time is out of range") from None


def check_position(position: Position, window: TimeWindow) -> Position:
    """The position as it is stored (a heading of 360 becomes 0), or PointRejected."""
    problem = identifier_problem(position.vehicle)
    if problem is not None:
        raise PointRejected(f"vehicle {problem}")
    if not _numbers_within_bounds(position):
        _reject_numbers(position)
    _check_time(position.device_time, window)
    if position.attributes is not None:
        _check_attributes(position.attributes)
    heading = position.heading
    # stored as real: a heading that rounds to 360 there is due north
    if heading is not None and heading >= _BELOW_360_AS_REAL and _as_real(heading) >= 360.0:
        return replace(position, heading=0.0)
    return position


def _numbers_within_bounds(position: Position) -> bool:
    """Whether every number is within its bounds (NaN is within none)."""
    for name, low, high, _unit in _BOUNDS:
        value = getattr(position, name)
        if value is not None and not low <= value <= high:
            return False
    return True


def _reject_numbers(position: Position) -> None:
    """Raise for the first number that is not finite, else for the first out of bounds."""
    for name in _NUMBERS:
        value = getattr(position, name)
        if value is not None and not math.isfinite(value):
            raise PointRejected(f"{name} must be a finite number")
    for name, low, high, unit in _BOUNDS:
        _within(name, getattr(position, name), low, high, unit)


def _within(name: str, value: float | None, low: float, high: float, unit: str = "") -> None:
    if value is not None and not low <= value <= high:
        raise PointRejected(f"{name} {value:g} is outside {low:g} to {high:g}{unit}")


def _check_time(moment: datetime, window: TimeWindow) -> None:
    if moment > window.latest:
        raise PointRejected("time is more than a day ahead of the server's clock")
    if moment < EARLIEST:
        raise PointRejected("time is before 2000-01-01")
    if moment < window.earliest:
        raise PointRejected(
            f"time is older than the plan's retention of {window.retention_days} days"
        )


def _check_attributes(attributes: dict[str, Any]) -> None:
    try:
        check_json(attributes, what="attributes")
    except InvalidInput as exc:
        raise PointRejected(exc.message) from None
    size = len(encode_attributes(attributes).encode())
    if size > MAX_ATTRIBUTES_BYTES:
        raise PointRejected(
            f"attributes take {size} bytes as JSON; a point's may take {MAX_ATTRIBUTES_BYTES}"
        )


def encode_attributes(attributes: dict[str, Any]) -> str:
    return json.dumps(attributes, ensure_ascii=False, separators=(",", ":"))


def _as_real(value: float) -> float:
    """``value`` as PostgreSQL's real (float4) keeps it."""
    rounded: float = struct.unpack("f", struct.pack("f", value))[0]
    return rounded


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__

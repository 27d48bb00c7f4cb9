"""The OsmAnd protocol, as Traccar Client and OsmAnd send it, read into a ``Position``.

Two forms arrive. Parameters (a GET's query, or a POST's form body, or both): ``id`` (or
``deviceid``), ``lat`` and ``lon`` (or ``location=lat,lon``), ``timestamp`` (epoch seconds or
milliseconds, ISO 8601, or ``yyyy-MM-dd HH:mm:ss``, read as UTC), ``speed`` in knots,
``bearing`` or ``heading``, ``altitude``, ``accuracy``, ``batt`` (percent), ``hdop``, ``valid``,
``charge``, ``driverUniqueId``; any other parameter is kept as an attribute (a number when it
reads as one, ``true``/``false`` as a boolean, else text). Newer Traccar Client apps post JSON
instead: ``{"device_id", "location": {"timestamp", "coords": {"latitude", "longitude",
"speed" (m/s), "heading", "accuracy", "altitude"}, "is_moving", "odometer", "event",
"battery": {"level" (0 to 1), "is_charging"}, "activity": {"type"}, "extras": {...}}}``, where
a negative speed, heading, accuracy or battery level means unknown.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from webhost.data.fleet.points import (
    PointRejected,
    Position,
    from_epoch,
    number,
    parse_time_text,
)
from webhost.validation import text_problem

KNOTS_TO_KMH = 1.852
METRES_PER_SECOND_TO_KMH = 3.6
_INTEGER = re.compile(r"^[+-]?[0-9]{1,30}$")
_DECIMAL = re.compile(r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")
# parameters never stored: the app's push-notification token is a credential of its own
_IGNORED = frozenset({"notificationToken"})


def from_parameters(parameters: list[tuple[str, str]], now: datetime) -> Position:
    """A position from OsmAnd parameters, in order (a repeated one: the last counts)."""
    fields: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    for name, value in parameters:
        for text in (name, value):
            problem = text_problem(text)
            if problem is not None:
                raise PointRejected(f"parameter {name[:40]!r} {problem}")
        match name:
            case "id" | "deviceid":
                fields["vehicle"] = value
            case "timestamp":
                fields["device_time"] = parameter_time(value)
            case "lat" | "lon":
                fields["latitude" if name == "lat" else "longitude"] = _decimal(name, value)
            case "location":
                latitude, _, longitude = value.partition(",")
                fields["latitude"] = _decimal("location", latitude)
                fields["longitude"] = _decimal("location", longitude)
            case "speed":
                fields["speed"] = _decimal(name, value) * KNOTS_TO_KMH
            case "bearing" | "heading":
                fields["heading"] = _decimal(name, value)
            case "altitude" | "accuracy":
                fields[name] = _decimal(name, value)
            case "batt":
                fields["battery"] = _decimal(name, value)
            case "hdop":
                attributes["hdop"] = _decimal(name, value)
            case "valid":
                attributes["valid"] = value.lower() == "true" or value == "1"
            case "charge":
                attributes["charge"] = value.lower() == "true"
            case _ if name in _IGNORED:
                pass
            case _:
                attributes[name] = _attribute(value)
    if "vehicle" not in fields:
        raise PointRejected("id (the device identifier) is required")
    if "latitude" not in fields or "longitude" not in fields:
        raise PointRejected("lat and lon (or location=lat,lon) are required")
    fields.setdefault("device_time", now)
    return Position(**fields, attributes=attributes or None)


def parameter_time(value: str) -> datetime:
    """Epoch seconds or milliseconds, ISO 8601 (UTC without an offset), or
    ``yyyy-MM-dd HH:mm:ss`` (UTC)."""
    text = value.strip()
    if _INTEGER.fullmatch(text):
        return from_epoch(int(text))
    if _DECIMAL.fullmatch(text):
        return from_epoch(float(text))
    if "T" in text:
        return parse_time_text(text, assume_utc=True)
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        raise PointRejected(
            f"timestamp {text[:40]!r} is neither epoch seconds or milliseconds, ISO 8601, "
            "nor yyyy-MM-dd HH:mm:ss"
        ) from None


def from_json(body: Any, now: datetime) -> Position:
    """A position from the JSON body newer Traccar Client apps post."""
    if not isinstance(body, dict):
        raise PointRejected('the body is a JSON object: {"device_id": ..., "location": {...}}')
    device = body.get("device_id")
    if isinstance(device, int) and not isinstance(device, bool):
        device = str(device)
    if not isinstance(device, str):
        raise PointRejected("device_id (the device identifier) is required, as text")
    location = _object(body, "location", "location")
    coords = _object(location, "coords", "location.coords")
    latitude = number(coords.get("latitude"), "location.coords.latitude")
    longitude = number(coords.get("longitude"), "location.coords.longitude")
    if latitude is None or longitude is None:
        raise PointRejected("location.coords.latitude and longitude are required")
    speed = _known(coords, "speed")
    battery = _object(location, "battery", "location.battery", required=False)
    level = _known(battery, "level", "location.battery.level")
    return Position(
        vehicle=device,
        device_time=_json_time(location.get("timestamp")),
        latitude=latitude,
        longitude=longitude,
        speed=speed * METRES_PER_SECOND_TO_KMH if speed is not None else None,
        heading=_known(coords, "heading"),
        altitude=number(coords.get("altitude"), "location.coords.altitude"),
        accuracy=_known(coords, "accuracy"),
        battery=round(level * 100, 2) if level is not None else None,
        attributes=_json_attributes(location, battery) or None,
    )


def _json_time(value: Any) -> datetime:
    if isinstance(value, str):
        return parse_time_text(value, assume_utc=True)
    stamp = number(value, "location.timestamp")
    if stamp is None:
        raise PointRejected("location.timestamp is required")
    return from_epoch(stamp)


def _json_attributes(location: dict[str, Any], battery: dict[str, Any]) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    extras = _object(location, "extras", "location.extras", required=False)
    for key, value in extras.items():
        if isinstance(value, str | int | float | bool):
            attributes[key] = value
    # the location's own readings come after its extras, so they win a clash of names
    for key, name, kind in (
        ("event", "event", str),
        ("is_moving", "motion", bool),
        ("odometer", "odometer", int | float),
        ("mock", "mock", bool),
        ("alarm", "alarm", str),
    ):
        value = location.get(key)
        if value is None:
            continue
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise PointRejected(f"location.{key} has the wrong type")
        attributes[name] = value
    activity = _object(location, "activity", "location.activity", required=False).get("type")
    if activity is not None:
        if not isinstance(activity, str):
            raise PointRejected("location.activity.type must be text")
        attributes["activity"] = activity
    charging = battery.get("is_charging")
    if charging is not None and not isinstance(charging, bool):
        raise PointRejected("location.battery.is_charging must be true or false")
    if charging:
        attributes["charge"] = True
    return attributes


def _object(parent: dict[str, Any], key: str, path: str, *, required: bool = True) -> Any:
    value = parent.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise PointRejected(f"{path} must be a JSON object")
    return value


def _known(parent: dict[str, Any], key: str, path: str | None = None) -> float | None:
    """A number where a negative one means unknown (None)."""
    value = number(parent.get(key), path or f"location.coords.{key}")
    return value if value is not None and value >= 0 else None


def _decimal(name: str, value: str) -> float:
    text = value.strip()
    if not _DECIMAL.fullmatch(text):
        raise PointRejected(f"{name} must be a decimal number, not {value[:40]!r}")
    return float(text)


def _attribute(value: str) -> Any:
    """An unknown parameter's value: a number when it reads as one, a boolean for
    ``true``/``false``, else the text."""
    text = value.strip()
    if _INTEGER.fullmatch(text) and len(text) <= 16:
        return int(text)
    if _DECIMAL.fullmatch(text):
        parsed = float(text)
        if parsed not in (float("inf"), float("-inf")):
            return parsed
    if value in ("true", "false"):
        return value == "true"
    return value

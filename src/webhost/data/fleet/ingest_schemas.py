"""What the ingestion routes take and answer, as OpenAPI shows them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from webhost.data.fleet.batches import MAX_POINTS
from webhost.data.fleet.points import (
    MAX_ACCURACY_M,
    MAX_ATTRIBUTES_BYTES,
    MAX_IDENTIFIER_LENGTH,
    MAX_SPEED_KMH,
)

POINT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["vehicle", "time", "latitude", "longitude"],
    "properties": {
        "vehicle": {
            "type": "string",
            "description": "The vehicle's identifier; an unknown one registers a vehicle "
            f"while the plan allows. 1 to {MAX_IDENTIFIER_LENGTH} characters, no '/' or "
            "control characters.",
        },
        "time": {
            "oneOf": [{"type": "string", "format": "date-time"}, {"type": "number"}],
            "description": "Device time: RFC 3339 with an offset, or epoch seconds (or "
            "milliseconds, from 1e11). From 2000-01-01 (and within the plan's retention) to a "
            "day ahead.",
        },
        "latitude": {"type": "number", "minimum": -90, "maximum": 90},
        "longitude": {"type": "number", "minimum": -180, "maximum": 180},
        "speed": {"type": "number", "minimum": 0, "maximum": MAX_SPEED_KMH, "description": "km/h"},
        "heading": {
            "type": "number",
            "minimum": 0,
            "maximum": 360,
            "description": "Degrees from north; 360 is stored as 0.",
        },
        "altitude": {"type": "number", "description": "Metres."},
        "accuracy": {"type": "number", "minimum": 0, "maximum": MAX_ACCURACY_M},
        "battery": {"type": "number", "minimum": 0, "maximum": 100, "description": "Percent."},
        "attributes": {
            "type": "object",
            "description": f"Anything else, as JSON (at most {MAX_ATTRIBUTES_BYTES} bytes).",
        },
    },
}
POSITIONS_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": f"At most {MAX_POINTS} points: a JSON array, or NDJSON (one point a "
        "line, Content-Type application/x-ndjson).",
        "content": {
            "application/json": {
                "schema": {"type": "array", "maxItems": MAX_POINTS, "items": POINT_SCHEMA}
            },
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
    }
}


class RejectedPoint(BaseModel):
    index: int
    vehicle: str | None
    code: str
    reason: str


class IngestAck(BaseModel):
    """What was stored (acknowledged only once committed) and what was not, and why."""

    accepted: int
    duplicates: int
    rejected: list[RejectedPoint]


OSMAND_PARAMETERS: list[dict[str, Any]] = [
    {"name": name, "in": "query", "required": False, "schema": schema, "description": about}
    for name, schema, about in [
        ("id", {"type": "string"}, "The device identifier (also 'deviceid')."),
        ("lat", {"type": "number"}, "Latitude (or location=lat,lon)."),
        ("lon", {"type": "number"}, "Longitude."),
        ("timestamp", {"type": "string"}, "Epoch s or ms, ISO 8601, or yyyy-MM-dd HH:mm:ss."),
        ("speed", {"type": "number"}, "Knots."),
        ("bearing", {"type": "number"}, "Degrees (also 'heading')."),
        ("altitude", {"type": "number"}, "Metres."),
        ("accuracy", {"type": "number"}, "Metres."),
        ("batt", {"type": "number"}, "Battery percent."),
    ]
]

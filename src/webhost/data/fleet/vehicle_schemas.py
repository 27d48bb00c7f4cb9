"""Request and response models of ``/v1/fleet/vehicles``."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from webhost.data.fleet.points import MAX_IDENTIFIER_LENGTH, MAX_SPEED_KMH, identifier_problem
from webhost.data.fleet.vehicles_repository import Vehicle
from webhost.errors import InvalidInput
from webhost.validation import MAX_JSON_DEPTH, StorableText, check_json

MAX_METADATA_BYTES = 16 * 1024


def _identifier(value: str) -> str:
    problem = identifier_problem(value)
    if problem is not None:
        raise PydanticCustomError("invalid_identifier", "{problem}", {"problem": problem})
    return value


def _metadata(value: dict[str, Any]) -> dict[str, Any]:
    try:
        check_json(value, what="metadata")
    except InvalidInput as exc:
        raise PydanticCustomError(
            "invalid_metadata", "{problem}", {"problem": exc.message}
        ) from None
    size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
    if size > MAX_METADATA_BYTES:
        raise PydanticCustomError(
            "metadata_too_large",
            "metadata takes {size} bytes as JSON; at most {limit} are allowed",
            {"size": size, "limit": MAX_METADATA_BYTES},
        )
    return value


Identifier = Annotated[
    str,
    Field(
        description=f"The vehicle's own id (a tracker's device id): 1 to {MAX_IDENTIFIER_LENGTH} "
        "characters, no '/' or control characters.",
        examples=["truck-17"],
    ),
    AfterValidator(_identifier),
]
Name = Annotated[StorableText, StringConstraints(max_length=200)]
VehicleType = Annotated[StorableText, StringConstraints(min_length=1, max_length=64)]
Status = Literal["active", "inactive", "maintenance"]
SpeedLimit = Annotated[
    float,
    Field(ge=1, le=MAX_SPEED_KMH, allow_inf_nan=False, description="Speed limit in km/h."),
]
Metadata = Annotated[
    dict[str, Any],
    Field(
        description=f"Any JSON object; at most {MAX_METADATA_BYTES} bytes, nesting at most "
        f"{MAX_JSON_DEPTH} levels, no NUL (U+0000), finite numbers."
    ),
    AfterValidator(_metadata),
]


class VehicleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    identifier: Identifier
    name: Name = ""
    type: VehicleType = "car"
    status: Status = "active"
    speed_limit_kmh: SpeedLimit | None = None
    metadata: Metadata = Field(default_factory=dict)


class VehiclePatch(BaseModel):
    """The fields to change; ``speed_limit_kmh: null`` removes the limit."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: Name | None = None
    type: VehicleType | None = None
    status: Status | None = None
    speed_limit_kmh: SpeedLimit | None = None
    metadata: Metadata | None = None

    def changes(self) -> dict[str, Any]:
        """Column -> new value, for the fields the request gave (null only where allowed)."""
        given = {name: getattr(self, name) for name in self.model_fields_set}
        for name, value in given.items():
            if value is None and name != "speed_limit_kmh":
                raise InvalidInput(f"{name} cannot be null")
        return given


class VehicleOut(BaseModel):
    id: int
    identifier: str
    name: str
    type: str
    status: Status
    speed_limit_kmh: float | None
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, vehicle: Vehicle) -> VehicleOut:
        return cls.model_validate(vehicle, from_attributes=True)

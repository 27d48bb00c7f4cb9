"""Bodies of the webhook endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

EventType = Literal["geofence_enter", "geofence_exit", "overspeed"]
EVENT_TYPES: tuple[str, ...] = ("geofence_enter", "geofence_exit", "overspeed")


def _checked_url(url: str) -> str:
    if "\x00" in url:
        raise ValueError("the URL holds a NUL character")
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError("give an absolute http:// or https:// URL")
    if parts.username or parts.password:
        raise ValueError("credentials in the URL are not allowed; verify the signature instead")
    return url


def _no_nul(text: str) -> str:
    if "\x00" in text:
        raise ValueError("the text holds a NUL character")
    return text


WebhookURL = Annotated[str, Field(min_length=8, max_length=2000), AfterValidator(_checked_url)]
Description = Annotated[str, Field(max_length=200), AfterValidator(_no_nul)]


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: WebhookURL
    events: list[EventType] = Field(min_length=1, max_length=len(EVENT_TYPES))
    description: Description = ""


class WebhookPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: WebhookURL | None = None
    events: list[EventType] | None = Field(default=None, min_length=1)
    description: Description | None = None
    active: bool | None = Field(
        default=None, description="true re-enables a webhook that was disabled for failing"
    )


class WebhookOut(BaseModel):
    id: int
    url: str
    events: list[str]
    description: str
    active: bool
    disabled_reason: str | None
    consecutive_failures: int
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="Signs every delivery; shown only now")


class DeliveryOut(BaseModel):
    id: int
    webhook_id: int
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    last_response_ms: int | None
    created_at: datetime
    delivered_at: datetime | None
    payload: dict[str, object]

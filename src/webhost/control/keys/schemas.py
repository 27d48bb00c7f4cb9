from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from webhost.control.keys.models import KeyScope
from webhost.validation import StorableText


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: StorableText = Field(min_length=1, max_length=100, examples=["mobile app"])


class KeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    prefix: str
    scope: KeyScope = Field(
        description="`full`: every data-plane API. `ingest`: the organization's device key, "
        "which may only send positions (it is the key in the deployments' `osmand_url`)."
    )
    created_at: datetime
    revoked_at: datetime | None


class CreatedKeyOut(KeyOut):
    key: str = Field(description="The full key. It is shown this once and never again.")

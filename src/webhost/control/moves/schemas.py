"""What the API and the operator's page say about a deployment's moves."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from webhost.control.provisioning.models import RunStatus


class MoveOut(BaseModel):
    """The newest move of a deployment between shared and dedicated hosting."""

    from_plan: str
    to_plan: str
    status: RunStatus = Field(
        description="running, succeeded, or compensated/failed when it was rolled back"
    )
    error: str | None = Field(description="why a rolled-back move failed")
    started_at: datetime
    finished_at: datetime | None
    old_copy_kept_until: datetime | None = Field(
        description="a succeeded move's old copy is kept until then, in case it must be undone"
    )
    old_copy_removed_at: datetime | None

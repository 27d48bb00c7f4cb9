from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from webhost.control.deployments.models import DeploymentStatus
from webhost.control.plans.models import DeploymentMode
from webhost.control.provisioning.models import RunStatus, StepStatus, Workflow


class StepOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    status: StepStatus
    attempts: int
    error: str | None


class RunOut(BaseModel):
    """A run of a workflow (provisioning, a migration between modes, ...) for the deployment."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    workflow: Workflow
    status: RunStatus
    started_at: datetime = Field(validation_alias="created_at")
    finished_at: datetime | None


class DeploymentOut(BaseModel):
    id: uuid.UUID
    organization_id: uuid.UUID
    plan: str
    mode: DeploymentMode
    provider: str
    region: str | None
    status: DeploymentStatus
    api_url: str | None
    sync_url: str | None
    osmand_url: str | None = Field(
        default=None,
        description="The URL phones report positions to: paste it into the Traccar Client "
        "app's Server URL field. It holds the organization's device key (scope `ingest`), so "
        "only members see it; null until the deployment is active and the organization has an "
        "API key.",
    )
    error: str | None
    created_at: datetime
    activated_at: datetime | None
    run: RunOut | None = Field(
        default=None, description="The newest workflow run; null before the first one starts."
    )
    steps: list[StepOut] = Field(description="The steps of the newest run, in order.")
    phase: str | None = Field(
        default=None,
        description="While the deployment moves between shared and dedicated hosting "
        "(status `migrating`): the step of the move it is at.",
        examples=["copy"],
    )
    moving_to: str | None = Field(
        default=None, description="While the deployment moves: the plan it moves to."
    )


class PlanChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan: str = Field(min_length=1, max_length=40, examples=["professional"])
    confirm_trim: bool = Field(
        default=False,
        description="Allow positions older than the new plan's retention to be dropped.",
    )

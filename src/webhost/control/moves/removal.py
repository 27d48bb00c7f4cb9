"""Removing the copy a deployment moved from, once the safety window has passed.

The copy is removed by undoing, newest first, the steps that made it (their outputs come from
the run that made it, on the provider it was made on), so exactly what was made goes; but not
its stable hostnames, which lead to the deployment's new home. It runs as a job scheduled at
the end of the window, retried until everything is gone.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import structlog

from webhost.control.deployments import repository as deployments_repository
from webhost.control.deployments import service as deployments
from webhost.control.plans import repository as plans_repository
from webhost.control.providers.base import StepRun
from webhost.control.providers.cloudflare.hostnames import StableHostnames
from webhost.control.provisioning import repository as provisioning
from webhost.control.provisioning.models import RunStatus
from webhost.control.provisioning.runner import describe_failure, secret_getter
from webhost.errors import ProvisioningError

if TYPE_CHECKING:
    from webhost.platform import Platform

log = structlog.get_logger(__name__)


async def remove_source(platform: Platform, deployment_id: uuid.UUID, run_id: uuid.UUID) -> None:
    """After the safety window: remove the copy the deployment moved from (idempotent)."""
    async with platform.sessions.begin() as session:
        run = await provisioning.get_run(session, run_id)
        deployment = await deployments_repository.get(session, deployment_id)
        if run is None or deployment is None or run.status != RunStatus.SUCCEEDED:
            return
        if run.source_removed_at is not None:
            return
        source_plan = await plans_repository.get_by_slug(session, run.parameters["from_plan"])
        if source_plan is None or source_plan.mode == deployment.mode:
            return  # what it moved from serves it again: nothing to remove
        source = await deployments.spec_of(session, deployment, source_plan)
        source = replace(source, provider=run.parameters.get("from_provider", source.provider))
        made_by = await provisioning.ledger(session, uuid.UUID(run.parameters["source_run"]))
    provider = platform.providers.get(source.provider)
    outputs = {name: entry.output for name, entry in made_by.items()}
    run_state = StepRun(source, outputs=outputs, secret=secret_getter(platform, deployment_id))
    failures = []
    for step in reversed(provider.provision_steps(source)):
        if isinstance(step, StableHostnames):
            continue  # the names are the deployment's for life: they lead to the target now
        try:
            await step.undo(run_state)
        except Exception as exc:
            failures.append(f"{step.name}: {describe_failure(exc)}")
    if failures:
        raise ProvisioningError("the moved-from copy was not fully removed: " + "; ".join(failures))
    async with platform.sessions.begin() as session:
        run = await provisioning.get_run(session, run_id)
        assert run is not None
        run.source_removed_at = datetime.now(UTC)
    log.info("moved-from copy removed", deployment=str(deployment_id), run=str(run_id))

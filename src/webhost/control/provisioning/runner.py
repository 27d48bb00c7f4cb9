"""Runs a workflow run's steps in order against its ledger, and undoes them in reverse.

Each step's progress is committed to the run's ledger before and after it runs, so a worker
killed mid-step resumes the run at that step (steps are idempotent) and never repeats one it
finished. Provisioning and moves between modes share this; each decides what a failure means.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy.exc import DBAPIError

from webhost.control.deployments import repository as deployments_repository
from webhost.control.providers.base import ProvisioningStep, StepRun
from webhost.control.provisioning import repository
from webhost.control.provisioning.models import ProvisioningStep as LedgerEntry
from webhost.control.provisioning.models import StepStatus
from webhost.errors import ProvisioningError, WebHostError

if TYPE_CHECKING:
    from webhost.platform import Platform

log = structlog.get_logger(__name__)


class StepFailed(Exception):
    """A step raised; ``position`` is its place in the run, ``reason`` fit for the customer."""

    def __init__(self, position: int, step: str, reason: str) -> None:
        super().__init__(reason)
        self.position = position
        self.step = step
        self.reason = reason


async def apply_steps(
    platform: Platform,
    run_id: uuid.UUID,
    steps: Sequence[ProvisioningStep],
    run_state: StepRun,
    ledger: dict[str, LedgerEntry],
) -> None:
    """Apply the steps not done yet, recording each; raises StepFailed (from the cause)."""
    for position, step in enumerate(steps):
        entry = ledger.get(step.name)
        if entry is not None and entry.status == StepStatus.DONE:
            run_state.outputs[step.name] = entry.output
            continue
        async with platform.sessions.begin() as session:
            await repository.start_step(session, run_id, position, step.name)
        try:
            output = await step.apply(run_state)
        except Exception as exc:
            reason = f"step '{step.name}' failed: {describe_failure(exc)}"
            async with platform.sessions.begin() as session:
                await repository.finish_step(
                    session, run_id, step.name, StepStatus.FAILED, error=reason
                )
            raise StepFailed(position, step.name, reason) from exc
        run_state.outputs[step.name] = output
        async with platform.sessions.begin() as session:
            await repository.finish_step(session, run_id, step.name, StepStatus.DONE, output=output)


async def compensate(
    platform: Platform,
    run_id: uuid.UUID,
    steps: Sequence[ProvisioningStep],
    run_state: StepRun,
) -> list[str]:
    """Undo in reverse order; returns what could not be undone (empty when clean)."""
    leftovers = []
    for step in reversed(steps):
        try:
            await step.undo(run_state)
        except Exception as exc:
            leftovers.append(f"{step.name}: {describe_failure(exc)}")
            log.error(
                "could not undo provisioning step",
                deployment=str(run_state.deployment.id),
                run=str(run_id),
                step=step.name,
            )
            continue
        async with platform.sessions.begin() as session:
            await repository.finish_step(session, run_id, step.name, StepStatus.UNDONE)
    return leftovers


def secret_getter(platform: Platform, deployment_id: uuid.UUID) -> Callable[..., Any]:
    context = f"deployment:{deployment_id}"

    async def secret(name: str, generate: Callable[[], str]) -> str:
        async with platform.sessions.begin() as session:
            deployment = await deployments_repository.lock(session, deployment_id)
            assert deployment is not None
            sealed = deployment.sealed_credentials
            values = platform.secret_box.open_json(sealed, context=context) if sealed else {}
            if name not in values:
                values[name] = generate()
                deployment.sealed_credentials = platform.secret_box.seal_json(
                    values, context=context
                )
            value: str = values[name]
            return value

    return secret


def describe_failure(exc: BaseException) -> str:
    """A reason fit for the customer's eyes: never a SQL statement (it may hold a password)."""
    if isinstance(exc, WebHostError):
        return exc.message
    if isinstance(exc, DBAPIError):
        original = exc.orig.__cause__ if exc.orig is not None and exc.orig.__cause__ else exc.orig
        message = getattr(original, "message", None) or str(original).splitlines()[0]
        return f"database error: {message}"
    if isinstance(exc, ProvisioningError):
        return exc.message
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__

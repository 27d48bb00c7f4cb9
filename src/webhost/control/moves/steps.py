"""The phases of a move after the target is provisioned, as steps of the move's ledger.

Each is idempotent, so a move resumed after a crash repeats the phase it was in. The target is
held (503) until the switch; the source is held and frozen from ``hold_source`` on, so the copy
is of everything it ever acknowledged; ``verify`` compares the two table by table.
"""

from __future__ import annotations

from typing import Any

from webhost.control.providers.base import DeploymentSpec, Provider, ProvisioningStep, StepRun
from webhost.data.tenancy.repository import ServingState
from webhost.data.tenancy.transfer import differences
from webhost.errors import ProvisioningError

MOVING_MESSAGE = (
    "this deployment is moving to its new plan's servers; send the request again in a moment"
)


class CopyMismatch(ProvisioningError):
    """The target does not hold what the source does: the move is rolled back, not retried."""


class MovePhase(ProvisioningStep):
    def __init__(self, provider: Provider, source: DeploymentSpec) -> None:
        self.provider = provider
        self.source = source


class HoldTarget(MovePhase):
    """The new copy answers 503 until the switch: nothing may write to it before the copy."""

    name = "hold_target"

    async def apply(self, run: StepRun) -> dict[str, Any]:
        await self.provider.set_serving_state(run.deployment, ServingState.HELD, MOVING_MESSAGE)
        return {}

    async def undo(self, run: StepRun) -> None:
        return None  # the target is removed by its own steps' undo


class HoldSource(MovePhase):
    """Requests get 503 with Retry-After and sockets close; then writes in flight are waited
    out and no more are taken (``data/tenancy/freeze.py``)."""

    name = "hold_source"

    async def apply(self, run: StepRun) -> dict[str, Any]:
        await self.provider.set_serving_state(self.source, ServingState.HELD, MOVING_MESSAGE)
        await self.provider.freeze_tenant(self.source)
        return {}

    async def undo(self, run: StepRun) -> None:
        await self.provider.thaw_tenant(self.source)
        await self.provider.set_serving_state(self.source, ServingState.ACTIVE)


class CopyData(MovePhase):
    name = "copy"

    async def apply(self, run: StepRun) -> dict[str, Any]:
        report = await self.provider.copy_tenant(self.source, run.deployment)
        return {"tables": report.tables, "rows": report.rows}

    async def undo(self, run: StepRun) -> None:
        return None


class VerifyCopy(MovePhase):
    name = "verify"

    async def apply(self, run: StepRun) -> dict[str, Any]:
        source = await self.provider.tenant_digests(self.source)
        target = await self.provider.tenant_digests(run.deployment)
        found = differences(source, target)
        if found:
            shown = "; ".join(found[:5]) + ("; ..." if len(found) > 5 else "")
            raise CopyMismatch(f"the copy differs from the source: {shown}")
        return {"tables": len(source), "rows": sum(digest.rows for digest in source.values())}

    async def undo(self, run: StepRun) -> None:
        return None


def move_phases(provider: Provider, source: DeploymentSpec) -> list[ProvisioningStep]:
    return [
        HoldTarget(provider, source),
        HoldSource(provider, source),
        CopyData(provider, source),
        VerifyCopy(provider, source),
    ]

"""The phases of a move after the target is provisioned, as steps of the move's ledger.

Each is idempotent, so a move resumed after a crash repeats the phase it was in. The target is
held (503) until the switch; the source is held and frozen from ``hold_source`` on, so the copy
is of everything it ever acknowledged; ``verify`` compares the two table by table. Source and
target may be on different providers (a Hetzner host and a Fly.io app): the copy is then a dump
streamed from the source's plane into the target's.
"""

from __future__ import annotations

import inspect
from typing import Any

from webhost.control.providers.base import DeploymentSpec, Provider, ProvisioningStep, StepRun
from webhost.control.providers.cloudflare.hostnames import StableHostnames
from webhost.data.tenancy.repository import ServingState
from webhost.data.tenancy.transfer import differences
from webhost.errors import ProvisioningError

MOVING_MESSAGE = (
    "this deployment is moving to its new plan's servers; send the request again in a moment"
)


class CopyMismatch(ProvisioningError):
    """The target does not hold what the source does: the move is rolled back, not retried."""


class DeferredHostnames(ProvisioningStep):
    """The target's stable hostnames during a move: what they will point at is found now, but
    they keep pointing at the source until the switch (``switch_hostnames``); undoing it leaves
    them alone, as they are still the source's."""

    name = StableHostnames.name

    def __init__(self, hostnames: StableHostnames) -> None:
        self.hostnames = hostnames

    async def apply(self, run: StepRun) -> dict[str, Any]:
        target = self.hostnames.target_of(run)
        resolved = await target if inspect.isawaitable(target) else target
        api, sync = self.hostnames.hostnames(run.deployment)
        return {"api": api, "sync": sync, "target": resolved}

    async def undo(self, run: StepRun) -> None:
        return None


def target_steps(provider: Provider, target: DeploymentSpec) -> list[ProvisioningStep]:
    """The target's provisioning, its hostnames deferred to the switch."""
    return [
        DeferredHostnames(step) if isinstance(step, StableHostnames) else step
        for step in provider.provision_steps(target)
    ]


async def switch_hostnames(
    steps: list[ProvisioningStep], deployment: DeploymentSpec, outputs: dict[str, dict[str, Any]]
) -> None:
    """Point the deployment's hostnames at what ``steps`` made (when they have hostnames)."""
    for step in steps:
        hostnames = step.hostnames if isinstance(step, DeferredHostnames) else step
        if isinstance(hostnames, StableHostnames) and step.name in outputs:
            await hostnames.switch(deployment, str(outputs[step.name]["target"]))


class MovePhase(ProvisioningStep):
    def __init__(
        self, source_provider: Provider, target_provider: Provider, source: DeploymentSpec
    ) -> None:
        self.source_provider = source_provider
        self.target_provider = target_provider
        self.source = source


class HoldTarget(MovePhase):
    """The new copy answers 503 until the switch: nothing may write to it before the copy."""

    name = "hold_target"

    async def apply(self, run: StepRun) -> dict[str, Any]:
        await self.target_provider.set_serving_state(
            run.deployment, ServingState.HELD, MOVING_MESSAGE
        )
        return {}

    async def undo(self, run: StepRun) -> None:
        return None  # the target is removed by its own steps' undo


class HoldSource(MovePhase):
    """Requests get 503 with Retry-After and sockets close; then writes in flight are waited
    out and no more are taken (``data/tenancy/freeze.py``)."""

    name = "hold_source"

    async def apply(self, run: StepRun) -> dict[str, Any]:
        provider = self.source_provider
        await provider.set_serving_state(self.source, ServingState.HELD, MOVING_MESSAGE)
        await provider.freeze_tenant(self.source)
        return {}

    async def undo(self, run: StepRun) -> None:
        await self.source_provider.thaw_tenant(self.source)
        await self.source_provider.set_serving_state(self.source, ServingState.ACTIVE)


class CopyData(MovePhase):
    name = "copy"

    async def apply(self, run: StepRun) -> dict[str, Any]:
        if self.source_provider is self.target_provider:
            report = await self.target_provider.copy_tenant(self.source, run.deployment)
        else:
            dump = self.source_provider.dump_tenant(self.source)
            report = await self.target_provider.restore_tenant(run.deployment, dump)
        return {"tables": report.tables, "rows": report.rows}

    async def undo(self, run: StepRun) -> None:
        return None


class VerifyCopy(MovePhase):
    name = "verify"

    async def apply(self, run: StepRun) -> dict[str, Any]:
        source = await self.source_provider.tenant_digests(self.source)
        target = await self.target_provider.tenant_digests(run.deployment)
        found = differences(source, target)
        if found:
            shown = "; ".join(found[:5]) + ("; ..." if len(found) > 5 else "")
            raise CopyMismatch(f"the copy differs from the source: {shown}")
        return {"tables": len(source), "rows": sum(digest.rows for digest in source.values())}

    async def undo(self, run: StepRun) -> None:
        return None


def move_phases(
    source_provider: Provider, target_provider: Provider, source: DeploymentSpec
) -> list[ProvisioningStep]:
    return [
        phase(source_provider, target_provider, source)
        for phase in (HoldTarget, HoldSource, CopyData, VerifyCopy)
    ]

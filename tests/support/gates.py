"""A provider whose deployments wait, after every real step, until the test releases them.

It lets a test watch a deployment that is provisioning for as long as it needs, then see it turn
active, without guessing how long the real steps take.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tests.support.platform import PlatformThread
from webhost.control.providers.base import DeploymentSpec, ProvisioningStep, StepRun
from webhost.control.providers.local.provider import LocalProvider

if TYPE_CHECKING:
    from webhost.control.providers.context import ProviderContext


class AwaitRelease(ProvisioningStep):
    name = "awaiting_release"

    def __init__(self, gate: asyncio.Event) -> None:
        self.gate = gate

    async def apply(self, run: StepRun) -> dict[str, Any]:
        await self.gate.wait()
        return {}

    async def undo(self, run: StepRun) -> None:
        return None


class GatedLocalProvider(LocalProvider):
    def __init__(self, context: ProviderContext) -> None:
        super().__init__(context)
        self.gates: defaultdict[uuid.UUID, asyncio.Event] = defaultdict(asyncio.Event)
        self.all_released = False

    def provision_steps(self, deployment: DeploymentSpec) -> Sequence[ProvisioningStep]:
        gate = self.gates[deployment.id]
        if self.all_released:
            gate.set()
        return [*super().provision_steps(deployment), AwaitRelease(gate)]

    async def release(self, deployment_id: uuid.UUID | None) -> None:
        if deployment_id is not None:
            self.gates[deployment_id].set()
            return
        self.all_released = True
        for gate in self.gates.values():
            gate.set()


def release(platform: PlatformThread, deployment_id: str | None = None) -> None:
    """Let one deployment (or every one, now and later) finish provisioning."""
    assert platform.runtime is not None
    assert platform.runtime.platform is not None
    provider = platform.runtime.platform.providers.default
    assert isinstance(provider, GatedLocalProvider)
    platform.call(lambda: provider.release(uuid.UUID(deployment_id) if deployment_id else None))

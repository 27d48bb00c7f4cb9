"""Providers for fault tests: the real local provider with one step made to misbehave.

They are selected the way operators select any provider (WEBHOST_PROVIDER=module:Class), so
the workflow engine, the worker and the real steps run unchanged.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from webhost.control.keys.models import KeyScope
from webhost.control.providers.base import DeploymentSpec, ProvisioningStep, StepRun
from webhost.control.providers.flyio.provider import FlyProvider
from webhost.control.providers.local.provider import LocalProvider
from webhost.errors import ProvisioningError


class BrokenStep(ProvisioningStep):
    """Fails every time, after every real step has created its resources."""

    name = "broken_on_purpose"

    async def apply(self, run: StepRun) -> dict[str, Any]:
        raise ProvisioningError("this step always fails (fault injection)")

    async def undo(self, run: StepRun) -> None:
        return None


class FailingLocalProvider(LocalProvider):
    def provision_steps(self, deployment: DeploymentSpec) -> Sequence[ProvisioningStep]:
        return [*super().provision_steps(deployment), BrokenStep()]


class PausedStep(ProvisioningStep):
    """Runs the real step, then signals through a file and hangs, so a test can kill the worker."""

    def __init__(self, real: ProvisioningStep, marker: Path) -> None:
        self.real = real
        self.marker = marker
        self.name = real.name  # type: ignore[misc]

    async def apply(self, run: StepRun) -> dict[str, Any]:
        await self.real.apply(run)
        self.marker.write_text(str(run.deployment.id))
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def undo(self, run: StepRun) -> None:
        await self.real.undo(run)


class PausingLocalProvider(LocalProvider):
    """Pauses inside the step named by WEBHOST_TEST_PAUSE_STEP, marking WEBHOST_TEST_PAUSE_FILE."""

    def provision_steps(self, deployment: DeploymentSpec) -> Sequence[ProvisioningStep]:
        pause_at = os.environ["WEBHOST_TEST_PAUSE_STEP"]
        marker = Path(os.environ["WEBHOST_TEST_PAUSE_FILE"])
        return [
            PausedStep(step, marker) if step.name == pause_at else step
            for step in super().provision_steps(deployment)
        ]


class UnreachablePlanesLocalProvider(LocalProvider):
    """The real local provider, except that while the file WEBHOST_TEST_PLANES_DOWN names exists
    its data planes take no key changes (as a plane behind a broken network would not)."""

    def _check_reachable(self) -> None:
        marker = os.environ.get("WEBHOST_TEST_PLANES_DOWN")
        if marker and Path(marker).exists():
            raise ProvisioningError("the data plane cannot be reached (fault injection)")

    async def publish_key(
        self,
        deployment: DeploymentSpec,
        prefix: str,
        secret_digest: str,
        scope: KeyScope = KeyScope.FULL,
    ) -> None:
        self._check_reachable()
        await super().publish_key(deployment, prefix, secret_digest, scope)

    async def revoke_key(self, deployment: DeploymentSpec, prefix: str) -> None:
        self._check_reachable()
        await super().revoke_key(deployment, prefix)


class PausingFlyProvider(FlyProvider):
    """The flyio provider, pausing inside WEBHOST_TEST_PAUSE_STEP like PausingLocalProvider."""

    def provision_steps(self, deployment: DeploymentSpec) -> Sequence[ProvisioningStep]:
        pause_at = os.environ["WEBHOST_TEST_PAUSE_STEP"]
        marker = Path(os.environ["WEBHOST_TEST_PAUSE_FILE"])
        return [
            PausedStep(step, marker) if step.name == pause_at else step
            for step in super().provision_steps(deployment)
        ]

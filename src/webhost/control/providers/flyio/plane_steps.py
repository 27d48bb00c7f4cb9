"""The flyio provider's steps on the data plane, through its management API: the plane answers
healthy, then holds the deployment's tenant with the plan's limits."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog

from webhost.control.providers.base import StepRun
from webhost.control.providers.flyio.steps import FlyStep, management_token, unless_app_gone
from webhost.errors import WebHostError

if TYPE_CHECKING:
    from webhost.control.providers.remote_plane import RemotePlane

log = structlog.get_logger(__name__)


class PlaneStep(FlyStep):
    async def plane(self, run: StepRun) -> RemotePlane:
        return self.provider.plane_at(run.deployment, await management_token(run))


class PlaneHealthy(PlaneStep):
    """Fly.io says started when the process runs; the plane serves once its database is up."""

    name = "plane_healthy"

    async def apply(self, run: StepRun) -> dict[str, Any]:
        plane = await self.plane(run)
        try:
            await plane.wait_healthy()
        finally:
            await plane.aclose()
        return {"plane_url": self.provider.plane_url(run.deployment)}

    async def undo(self, run: StepRun) -> None:
        return None  # nothing was made


class PlaneTenant(PlaneStep):
    """The deployment's tenant (role, schema, migrations, directory row) on its plane."""

    name = "plane_tenant"

    async def apply(self, run: StepRun) -> dict[str, Any]:
        plane = await self.plane(run)
        try:
            await plane.ensure_tenant(run.deployment.tenant, run.deployment.limits)
        finally:
            await plane.aclose()
        return {"tenant": run.deployment.tenant_name}

    async def undo(self, run: StepRun) -> None:
        layout = self.layout(run)
        machines = await unless_app_gone(self.provider.fly.list_machines(layout.app))
        if not any(machine.name in layout.machine_names for machine in machines or []):
            return  # no plane left: the tenant went with its machine and volume
        plane = await self.plane(run)
        try:
            await plane.remove_tenant(run.deployment.id)
        except WebHostError as exc:
            # the tenant lives only on the app's volumes, which the volumes' undo destroys
            log.warning(
                "flyio.tenant_not_removed", deployment=str(run.deployment.id), reason=exc.message
            )
        finally:
            await plane.aclose()

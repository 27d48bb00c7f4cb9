"""A deployment's data, exported: what its owner takes before a cancelled subscription's
retention window ends (or whenever they like)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from webhost.control.deployments import repository, service
from webhost.control.deployments.models import Deployment, DeploymentStatus
from webhost.control.providers.registry import Providers
from webhost.errors import Conflict, ProvisioningError, ServiceBusy

FORMAT = "webhost-export/1"
RETRY_SECONDS = 30
# the data exists and holds still enough to read: serving, suspended, or frozen while moving
EXPORTABLE = frozenset(
    {DeploymentStatus.ACTIVE, DeploymentStatus.SUSPENDED, DeploymentStatus.MIGRATING}
)


async def export_lines(
    session: AsyncSession, providers: Providers, deployment: Deployment
) -> AsyncIterator[bytes]:
    if deployment.status not in EXPORTABLE:
        raise Conflict(
            f"deployment {deployment.id} is {deployment.status.value}: there is no data to export"
        )
    spec = await service.spec_of(session, deployment)
    header = {
        "format": FORMAT,
        "deployment": str(deployment.id),
        "plan": await repository.plan_slug(session, deployment.plan_id),
        "exported_at": datetime.now(UTC).isoformat(),
    }
    rows = aiter(providers.get(spec.provider).export_tenant(spec))
    try:
        # started before the answer's status is sent: a plane that cannot export is a 503
        first = await anext(rows, None)
    except ProvisioningError as exc:
        raise ServiceBusy(
            f"the export could not start: {exc.message}", retry_after_seconds=RETRY_SECONDS
        ) from None

    async def lines() -> AsyncIterator[bytes]:
        yield (json.dumps(header) + "\n").encode()
        if first is None:
            return
        yield (first + "\n").encode()
        async for line in rows:
            yield (line + "\n").encode()

    return lines()


def filename(deployment: Deployment) -> str:
    return f"webhost-{deployment.tenant_name}-{datetime.now(UTC):%Y%m%d}.ndjson"

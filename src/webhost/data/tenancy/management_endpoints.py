"""The data plane's management API: what a provider does to a remote plane, over HTTP.

Served only when the plane has a management token. Each operation is idempotent and a thin
layer over ``management``, so a remote plane is provisioned exactly as a local one is.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from webhost.data.plane import DataPlane
from webhost.data.tenancy import management, repository, transfer
from webhost.data.tenancy.dependencies import PlaneDep
from webhost.data.tenancy.management_schemas import (
    CapacityOut,
    HoldingsOut,
    KeyBody,
    KeyPrefix,
    LimitsBody,
    ServingStateBody,
    TenantBody,
    TenantOut,
)
from webhost.data.tenancy.repository import TenantEntry
from webhost.data.tenancy.scope import Tenant, tenant_name_for
from webhost.errors import Conflict, InvalidInput, NotFound, Unauthorized

PREFIX = "/_manage/v1"

management_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="ManagementToken",
    description="The plane's WEBHOST_DATAPLANE_MANAGEMENT_TOKEN.",
)


async def require_management_token(
    plane: PlaneDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(management_scheme)],
) -> None:
    if credentials is None:
        raise Unauthorized(
            "missing management token: send 'Authorization: Bearer <management token>'"
        )
    expected = plane.management_token
    # constant time: how much of a guess matched must not show in the answer's timing
    if expected is None or not hmac.compare_digest(
        credentials.credentials.encode(), expected.get_secret_value().encode()
    ):
        raise Unauthorized("invalid management token")


router = APIRouter(
    prefix=PREFIX, tags=["management"], dependencies=[Depends(require_management_token)]
)
TenantId = Annotated[uuid.UUID, Path(description="The deployment's id.")]


def served_tenant(plane: DataPlane, tenant_id: uuid.UUID) -> Tenant:
    """The tenant of this id, when this plane may hold it (a dedicated plane holds one)."""
    if plane.only_tenant is not None and tenant_id != plane.only_tenant:
        raise NotFound(f"this plane serves one tenant only, and {tenant_id} is not it")
    return Tenant(id=tenant_id, name=tenant_name_for(tenant_id))


async def registered(plane: DataPlane, tenant_id: uuid.UUID) -> TenantEntry:
    served_tenant(plane, tenant_id)
    async with plane.engine.connect() as connection:
        entry = await repository.find_tenant(connection, tenant_id)
    if entry is None:
        raise NotFound(
            f"tenant {tenant_id} is not on this plane; "
            f"PUT {PREFIX}/tenants/{tenant_id} provisions it"
        )
    return entry


@router.put("/tenants/{tenant_id}", response_model=TenantOut)
async def ensure_tenant(plane: PlaneDep, tenant_id: TenantId, body: TenantBody) -> TenantOut:
    """Role, schema, tenant migrations and the directory entry with these limits."""
    tenant = served_tenant(plane, tenant_id)
    if body.name != tenant.name:
        raise InvalidInput(f"name: the tenant of {tenant_id} is named {tenant.name!r}")
    async with plane.engine.begin() as connection:
        # two provisioning runs at once would both try to create the schema
        await connection.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:name))"),
            {"name": f"webhost:tenant:{tenant.name}"},
        )
        await management.ensure_role(connection, tenant.name)
        await management.ensure_tenant_schema(connection, tenant)
    await management.migrate_tenant(plane.engine, tenant)
    return await _register(plane, tenant, body.limits)


@router.delete("/tenants/{tenant_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_tenant(plane: PlaneDep, tenant_id: TenantId) -> Response:
    """Keys revoked (their sockets close), directory entry, schema and role gone."""
    tenant = served_tenant(plane, tenant_id)
    async with plane.engine.begin() as connection:
        for prefix in await repository.live_key_prefixes(connection, tenant_id):
            await management.revoke_key(connection, prefix)
        await management.unregister_tenant(connection, tenant_id)
        await management.drop_tenant_schema(connection, tenant)
        await management.drop_role(connection, tenant.name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/tenants/{tenant_id}/limits", response_model=TenantOut)
async def publish_limits(plane: PlaneDep, tenant_id: TenantId, body: LimitsBody) -> TenantOut:
    entry = await registered(plane, tenant_id)
    return await _register(plane, entry.tenant, body)


@router.put("/tenants/{tenant_id}/keys/{prefix}", status_code=status.HTTP_204_NO_CONTENT)
async def publish_key(
    plane: PlaneDep, tenant_id: TenantId, prefix: Annotated[KeyPrefix, Path()], body: KeyBody
) -> Response:
    await registered(plane, tenant_id)
    async with plane.engine.begin() as connection:
        await management.publish_key(connection, tenant_id, prefix, body.secret_digest, body.scope)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/tenants/{tenant_id}/keys/{prefix}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_key(
    plane: PlaneDep, tenant_id: TenantId, prefix: Annotated[KeyPrefix, Path()]
) -> Response:
    """Takes effect at once: every plane on the database closes the key's sockets."""
    served_tenant(plane, tenant_id)
    async with plane.engine.begin() as connection:
        record = await repository.find_key(connection, prefix)
        if record is not None and record.tenant.id != tenant_id:
            raise NotFound(f"key {prefix} is not a key of tenant {tenant_id}")
        await management.revoke_key(connection, prefix)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/tenants/{tenant_id}/serving-state", response_model=TenantOut)
async def set_serving_state(
    plane: PlaneDep, tenant_id: TenantId, body: ServingStateBody
) -> TenantOut:
    await registered(plane, tenant_id)
    async with plane.engine.begin() as connection:
        await management.set_serving_state(connection, tenant_id, body.state.value, body.message)
    return TenantOut.of(await registered(plane, tenant_id))


@router.get("/tenants/{tenant_id}/holdings", response_model=HoldingsOut)
async def holdings(plane: PlaneDep, tenant_id: TenantId) -> HoldingsOut:
    entry = await registered(plane, tenant_id)
    async with plane.engine.connect() as connection:
        held = await management.tenant_holdings(connection, entry.tenant)
    return HoldingsOut(vehicles=held.vehicles, oldest_position=held.oldest_position)


@router.get(
    "/tenants/{tenant_id}/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
async def export_tenant(plane: PlaneDep, tenant_id: TenantId) -> StreamingResponse:
    """Every row of the tenant's tables as JSON lines (``{"table": ..., "row": {...}}``), read
    in one snapshot, so a write made during a long export is either wholly in it or not."""
    entry = await registered(plane, tenant_id)
    return StreamingResponse(_export(plane, entry.tenant), media_type="application/x-ndjson")


async def _export(plane: DataPlane, tenant: Tenant) -> AsyncIterator[bytes]:
    async with plane.engine.connect() as connection:
        await connection.execution_options(isolation_level="REPEATABLE READ")
        async with connection.begin():
            await connection.exec_driver_sql("SET TRANSACTION READ ONLY")
            async for line in transfer.export_rows(connection, tenant):
                yield (line + "\n").encode()


@router.get("/capacity", response_model=CapacityOut)
async def capacity(plane: PlaneDep) -> CapacityOut:
    async with plane.engine.connect() as connection:
        count = await repository.tenant_count(connection, only=plane.only_tenant)
    return CapacityOut(tenants=count)


async def _register(plane: DataPlane, tenant: Tenant, limits: LimitsBody) -> TenantOut:
    try:
        async with plane.engine.begin() as connection:
            await management.register_tenant(connection, tenant, limits.to_limits())
            entry = await repository.find_tenant(connection, tenant.id)
    except IntegrityError as exc:
        # another id whose first 16 hex digits are the same holds the name
        raise Conflict(f"another tenant on this plane is named {tenant.name!r}") from exc
    assert entry is not None
    return TenantOut.of(entry)

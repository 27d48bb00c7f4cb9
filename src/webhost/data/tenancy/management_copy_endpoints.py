"""The management API's part in a move between planes: freeze the tenant where it is, stream
its data out as a dump, restore a dump on the new plane, and digest both sides to compare.

The dump and the restore are streamed both ways, in constant memory: ``BodySizeLimit`` lets a
restore's body through unbuffered (``RESTORE_PATH``), and the management token guards it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import asyncpg
import structlog
from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.responses import StreamingResponse
from sqlalchemy.exc import DBAPIError
from starlette.requests import ClientDisconnect

from webhost.data.plane import DataPlane
from webhost.data.tenancy import freeze, transfer
from webhost.data.tenancy.dependencies import PlaneDep
from webhost.data.tenancy.dump import dump_tenant
from webhost.data.tenancy.dump_frames import MEDIA_TYPE, DumpError
from webhost.data.tenancy.management_endpoints import (
    PREFIX,
    TenantId,
    registered,
    require_management_token,
)
from webhost.data.tenancy.management_schemas import CopyOut, DigestsOut, TableDigestOut
from webhost.data.tenancy.restore import restore_tenant
from webhost.data.tenancy.scope import Tenant
from webhost.errors import BadRequest, ServiceBusy

log = structlog.get_logger(__name__)

# the path whose body is a dump of any size (see BodySizeLimit's ``unbuffered``)
RESTORE_PATH = re.compile(rf"^{re.escape(PREFIX)}/tenants/[^/]+/data$")

router = APIRouter(
    prefix=PREFIX, tags=["management"], dependencies=[Depends(require_management_token)]
)


def _lock_timed_out(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, asyncpg.LockNotAvailableError):
            return True
        if isinstance(seen, DBAPIError) and seen.orig is not None and seen.orig is not seen:
            seen = seen.orig
            continue
        seen = seen.__cause__
    return False


@router.post("/tenants/{tenant_id}/freeze", status_code=status.HTTP_204_NO_CONTENT)
async def freeze_tenant(plane: PlaneDep, tenant_id: TenantId) -> Response:
    """Wait out the writes in flight, then refuse any more (idempotent); 503 when writes did
    not end within the freeze's lock timeout."""
    entry = await registered(plane, tenant_id)
    try:
        async with plane.engine.begin() as connection:
            await freeze.freeze(connection, entry.tenant)
    except DBAPIError as exc:
        if not _lock_timed_out(exc):
            raise
        raise ServiceBusy(
            f"writes in flight on tenant {tenant_id} did not end within {freeze.LOCK_TIMEOUT}; "
            "freeze it again",
            retry_after_seconds=5,
        ) from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/tenants/{tenant_id}/thaw", status_code=status.HTTP_204_NO_CONTENT)
async def thaw_tenant(plane: PlaneDep, tenant_id: TenantId) -> Response:
    entry = await registered(plane, tenant_id)
    async with plane.engine.begin() as connection:
        await freeze.thaw(connection, entry.tenant)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/tenants/{tenant_id}/data",
    response_class=StreamingResponse,
    responses={200: {"content": {MEDIA_TYPE: {}}}},
)
async def dump(plane: PlaneDep, tenant_id: TenantId) -> StreamingResponse:
    """The tenant's data as one dump, read in one snapshot; its last frame is ``end``."""
    entry = await registered(plane, tenant_id)
    return StreamingResponse(_dump(plane, entry.tenant), media_type=MEDIA_TYPE)


async def _dump(plane: DataPlane, tenant: Tenant) -> AsyncIterator[bytes]:
    async with plane.engine.connect() as connection:
        await connection.execution_options(isolation_level="REPEATABLE READ")
        async with connection.begin():
            await connection.exec_driver_sql("SET TRANSACTION READ ONLY")
            async for chunk in dump_tenant(connection, tenant):
                yield chunk


@router.put("/tenants/{tenant_id}/data", response_model=CopyOut)
async def restore(plane: PlaneDep, tenant_id: TenantId, request: Request) -> CopyOut:
    """Replace the tenant's data with the dump in the body, all or nothing: 400 names what is
    wrong with a dump that is cut or malformed, and nothing is changed."""
    entry = await registered(plane, tenant_id)
    try:
        async with plane.engine.begin() as connection:
            report = await restore_tenant(connection, entry.tenant, request.stream())
    except DumpError as exc:
        raise BadRequest(f"the dump was not restored: {exc.message}") from None
    except ClientDisconnect:
        raise BadRequest("the dump was not restored: the sender went away mid-dump") from None
    except transfer.TransferError as exc:
        raise BadRequest(f"the dump was not restored: {exc.message}") from None
    log.info("tenant restored", tenant=str(tenant_id), tables=report.tables, rows=report.rows)
    return CopyOut(tables=report.tables, rows=report.rows)


@router.get("/tenants/{tenant_id}/digests", response_model=DigestsOut)
async def digests(plane: PlaneDep, tenant_id: TenantId) -> DigestsOut:
    entry = await registered(plane, tenant_id)
    async with plane.engine.begin() as connection:
        found = await transfer.digests(connection, entry.tenant)
    return DigestsOut(
        tables=[
            TableDigestOut(table=digest.table, rows=digest.rows, digest=digest.digest)
            for digest in found.values()
        ]
    )

"""FastAPI dependencies: the calling tenant, and a transaction scoped to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncConnection

from webhost.data.plane import Caller, DataPlane
from webhost.data.tenancy.scope import tenant_transaction


def get_plane(request: Request) -> DataPlane:
    plane: DataPlane = request.app.state.plane
    return plane


PlaneDep = Annotated[DataPlane, Depends(get_plane)]


api_key_scheme = HTTPBearer(
    auto_error=False, scheme_name="ApiKey", description="An API key: whs_live_..."
)


async def get_caller(
    plane: PlaneDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(api_key_scheme)],
) -> Caller:
    return await plane.authenticate(credentials.credentials if credentials else None)


CallerDep = Annotated[Caller, Depends(get_caller)]


async def get_tenant_connection(
    plane: PlaneDep, caller: CallerDep
) -> AsyncIterator[AsyncConnection]:
    """The request owns the transaction: committed before the response is sent."""
    async with tenant_transaction(plane.engine, caller.tenant) as connection:
        yield connection


TenantConnectionDep = Annotated[AsyncConnection, Depends(get_tenant_connection, scope="function")]

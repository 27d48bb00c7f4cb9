"""FastAPI dependencies: the request's one connection, the calling tenant, and its scope.

A request takes one pool connection for everything: the key lookup runs on it as the plane's
role, then the same transaction switches to the tenant (``enter_tenant``) for the request's
statements, and is committed before the response is sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request, WebSocket
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncConnection

from webhost.data.plane import Caller, DataPlane
from webhost.data.tenancy.scope import enter_tenant
from webhost.errors import Forbidden, PaymentRequired, ServiceBusy, Unauthorized
from webhost.http.credentials import socket_api_key
from webhost.http.websocket import (
    CLOSE_FORBIDDEN,
    CLOSE_PAYMENT_REQUIRED,
    CLOSE_TRY_AGAIN_LATER,
    CLOSE_UNAUTHORIZED,
    deny_handshake,
)


async def get_plane(request: Request) -> DataPlane:
    """Async although it awaits nothing: FastAPI runs a plain function on its thread pool."""
    plane: DataPlane = request.app.state.plane
    return plane


PlaneDep = Annotated[DataPlane, Depends(get_plane)]


async def get_request_connection(plane: PlaneDep) -> AsyncIterator[AsyncConnection]:
    """The request owns the transaction: committed before the response is sent."""
    async with plane.transaction() as connection:
        yield connection


RequestConnectionDep = Annotated[AsyncConnection, Depends(get_request_connection, scope="function")]

api_key_scheme = HTTPBearer(
    auto_error=False, scheme_name="ApiKey", description="An API key: whs_live_..."
)


async def get_caller(
    plane: PlaneDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(api_key_scheme)],
    connection: RequestConnectionDep,
) -> Caller:
    return await plane.authenticate(credentials.credentials if credentials else None, connection)


CallerDep = Annotated[Caller, Depends(get_caller)]


async def get_caller_released(
    plane: PlaneDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(api_key_scheme)],
) -> Caller:
    """The caller, authenticated on a connection that is back in the pool at once: for a
    request that waits on another connection (a push waits for its group's transaction), so
    that waiting requests can never hold every connection."""
    return await plane.authenticate(credentials.credentials if credentials else None)


CallerReleasedDep = Annotated[Caller, Depends(get_caller_released)]


async def get_ingest_caller_released(
    plane: PlaneDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(api_key_scheme)],
) -> Caller:
    """A caller that may send positions (``DataPlane.authenticate_sender``), holding no
    connection: ingestion reads and checks the batch first, then stores it in a transaction of
    its own, so no connection waits while a large batch is parsed."""
    return await plane.authenticate_sender(credentials.credentials if credentials else None)


IngestCallerReleasedDep = Annotated[Caller, Depends(get_ingest_caller_released)]


async def get_tenant_connection(
    caller: CallerDep, connection: RequestConnectionDep
) -> AsyncConnection:
    """The request's connection, switched to the caller's tenant until the transaction ends."""
    await enter_tenant(connection, caller.tenant)
    return connection


TenantConnectionDep = Annotated[AsyncConnection, Depends(get_tenant_connection)]


async def authenticate_socket(websocket: WebSocket, *, ingest: bool = False) -> Caller | None:
    """The caller of a WebSocket handshake; None once a refusal (401; 403 for a device key
    where ``ingest`` does not allow one; 402 suspended; 503 moving) has been answered.
    ``ingest``: the socket only sends positions (``DataPlane.authenticate_sender``)."""
    plane: DataPlane = websocket.app.state.plane
    raw_key = socket_api_key(
        websocket.query_params.get("token"), websocket.headers.get("authorization")
    )
    try:
        if ingest:
            return await plane.authenticate_sender(raw_key)
        return await plane.authenticate(raw_key)
    except Unauthorized as exc:
        await deny_handshake(websocket, 401, CLOSE_UNAUTHORIZED, exc.message)
        return None
    except Forbidden as exc:
        await deny_handshake(websocket, 403, CLOSE_FORBIDDEN, exc.message)
        return None
    except PaymentRequired as exc:
        await deny_handshake(websocket, 402, CLOSE_PAYMENT_REQUIRED, exc.message, code=exc.code)
        return None
    except ServiceBusy as exc:
        await deny_handshake(
            websocket, 503, CLOSE_TRY_AGAIN_LATER, exc.message, code=exc.code, headers=exc.headers
        )
        return None

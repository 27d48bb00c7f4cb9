"""Typed dependencies of the control plane: the platform, the session, who is calling."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from webhost.control.accounts import service as accounts
from webhost.control.accounts.login_throttle import LoginThrottle
from webhost.control.accounts.models import Account, Organization
from webhost.db import after_commit
from webhost.errors import Forbidden, Unauthorized
from webhost.http.credentials import bearer_token
from webhost.platform import Platform

SESSION_COOKIE = "webhost_session"


def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


async def get_session(platform: PlatformDep) -> AsyncIterator[AsyncSession]:
    """The request owns the transaction: committed before the response is sent."""
    async with platform.sessions() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            after_commit.discard(session)
            raise
        # e.g. key changes reach the data planes before the response says they are done
        await after_commit.run_after_commit(session)


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


def client_address(request: Request) -> str:
    """The caller's address as uvicorn reports it (from X-Forwarded-For behind a trusted proxy)."""
    return request.client.host if request.client is not None else "unknown"


ClientAddressDep = Annotated[str, Depends(client_address)]


def get_login_throttle(platform: PlatformDep) -> LoginThrottle:
    return LoginThrottle.from_settings(platform.settings, platform.sessions)


LoginThrottleDep = Annotated[LoginThrottle, Depends(get_login_throttle)]


def request_token(request: Request) -> str | None:
    """An API call's session token, from the Authorization header only.

    Browsers attach cookies to requests other sites make them send, but never this header, so
    the API needs no CSRF token: the dashboard's session cookie is not accepted here.
    """
    return bearer_token(request.headers.get("authorization"))


# documents the scheme in OpenAPI; request_token reads the header itself
session_scheme = HTTPBearer(
    auto_error=False, scheme_name="Session", description="A session token from POST /api/login"
)


async def get_account(
    request: Request, session: SessionDep, _scheme: Annotated[object, Depends(session_scheme)]
) -> Account:
    token = request_token(request)
    if token is None and SESSION_COOKIE in request.cookies:
        raise Unauthorized(
            "the API does not accept the dashboard's session cookie: send "
            "'Authorization: Bearer <token>' from POST /api/login"
        )
    if token is None:
        raise Unauthorized(
            "log in first: send 'Authorization: Bearer <token>' from POST /api/login"
        )
    return await accounts.authenticate_session(session, token)


AccountDep = Annotated[Account, Depends(get_account)]


async def get_operator(account: AccountDep) -> Account:
    if not account.is_operator:
        raise Forbidden("this needs the operator role")
    return account


OperatorDep = Annotated[Account, Depends(get_operator)]


async def get_organization(
    account: AccountDep,
    session: SessionDep,
    organization_id: Annotated[
        uuid.UUID | None, Query(description="Needed only when you belong to several.")
    ] = None,
) -> Organization:
    return await accounts.resolve_organization(session, account, organization_id)


OrganizationDep = Annotated[Organization, Depends(get_organization)]

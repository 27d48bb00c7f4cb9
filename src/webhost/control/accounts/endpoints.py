from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from webhost.control.accounts import service
from webhost.control.accounts.schemas import (
    AccountOut,
    LoginIn,
    MeOut,
    OrganizationOut,
    TokenOut,
)
from webhost.control.dependencies import (
    AccountDep,
    ClientAddressDep,
    LoginThrottleDep,
    PlatformDep,
    SessionDep,
    request_token,
)

router = APIRouter(prefix="/api", tags=["accounts"])


@router.post(
    "/login",
    response_model=TokenOut,
    responses={
        429: {"description": "Too many failed logins for the account or address; see Retry-After"},
        503: {"description": "Too many password checks in progress; see Retry-After"},
    },
)
async def login(
    body: LoginIn,
    session: SessionDep,
    platform: PlatformDep,
    throttle: LoginThrottleDep,
    address: ClientAddressDep,
) -> TokenOut:
    """Repeated failures for an account or from an address are answered 429 with Retry-After."""
    issued = await service.login(
        session, platform.passwords, throttle, body.email, body.password, address=address
    )
    return TokenOut(token=issued.token, expires_at=issued.expires_at)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(request: Request, session: SessionDep, _account: AccountDep) -> Response:
    token = request_token(request)
    if token:
        await service.logout(session, token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", response_model=MeOut)
async def me(account: AccountDep, session: SessionDep) -> MeOut:
    organizations = await service.organizations_of(session, account)
    return MeOut(
        account=AccountOut.model_validate(account),
        organizations=[OrganizationOut.model_validate(o) for o in organizations],
    )

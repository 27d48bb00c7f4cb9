"""Who is using the dashboard: the session cookie, its issue and removal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.responses import RedirectResponse

from webhost.control.accounts import service as accounts
from webhost.control.accounts.models import Account
from webhost.control.accounts.service import IssuedToken
from webhost.control.dashboard.csrf import (
    CSRF_FIELD,
    CSRF_HEADER,
    bind_to_session,
    check_csrf,
    end_presession,
    is_https,
)
from webhost.control.dependencies import SESSION_COOKIE, SessionDep
from webhost.errors import Forbidden, Unauthorized


class LoginRequired(Exception):
    """The page needs a session and the browser has none (or an expired one)."""


def session_token(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


async def optional_account(request: Request, session: SessionDep) -> Account | None:
    token = session_token(request)
    if token is None:
        return None
    try:
        account = await accounts.authenticate_session(session, token)
    except Unauthorized:
        return None
    bind_to_session(request, token)
    return account


MaybeAccountDep = Annotated[Account | None, Depends(optional_account)]


async def require_csrf(request: Request, _account: MaybeAccountDep) -> None:
    """The request carries its page's token, checked against the session found above (or the
    pre-session of an anonymous browser)."""
    submitted: object = request.headers.get(CSRF_HEADER)
    if submitted is None:
        submitted = (await request.form()).get(CSRF_FIELD)
    check_csrf(request, submitted)


async def require_account(account: MaybeAccountDep) -> Account:
    if account is None:
        raise LoginRequired
    return account


BrowserAccountDep = Annotated[Account, Depends(require_account)]


async def require_operator(account: BrowserAccountDep) -> Account:
    if not account.is_operator:
        raise Forbidden("this page is for the operator of this WebHost only")
    return account


BrowserOperatorDep = Annotated[Account, Depends(require_operator)]


def home_of(account: Account) -> str:
    return "/operator" if account.is_operator else "/dashboard"


def start_session(request: Request, response: Response, issued: IssuedToken) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        issued.token,
        expires=issued.expires_at,
        path="/",
        secure=is_https(request),
        httponly=True,
        samesite="lax",
    )
    # forms are bound to the session from now on
    end_presession(request, response)


def logged_in_redirect(request: Request, issued: IssuedToken, destination: str) -> Response:
    response = RedirectResponse(destination, status_code=303)
    start_session(request, response, issued)
    return response


def end_session(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=is_https(request), httponly=True, samesite="lax"
    )

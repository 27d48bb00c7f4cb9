"""Double-submit CSRF protection for every state-changing dashboard request.

A random token lives in the ``webhost_csrf`` cookie and is embedded in each page (a hidden form
field, and the ``X-CSRF-Token`` header htmx sends). A request is accepted only when both agree:
another site can make the browser send the cookie, but cannot read it to repeat it in the form.
"""

from __future__ import annotations

import hmac
import re
import secrets
from datetime import timedelta

from fastapi import Request, Response

from webhost.errors import Forbidden

CSRF_COOKIE = "webhost_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
CSRF_COOKIE_LIFETIME = timedelta(days=30)
_WELL_FORMED = re.compile(r"^[A-Za-z0-9_-]{43}$")


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def csrf_token(request: Request) -> str:
    """The token the page must carry: the browser's own, or a new one it will be given."""
    token: str | None = getattr(request.state, "csrf_token", None)
    if token is None:
        token = request.cookies.get(CSRF_COOKIE, "")
        if not _WELL_FORMED.fullmatch(token):
            token = secrets.token_urlsafe(32)
        request.state.csrf_token = token
    return token


def rotate_csrf_token(request: Request) -> None:
    """A login gets a fresh token, so one planted in the browser beforehand is worthless."""
    request.state.csrf_token = secrets.token_urlsafe(32)


def store_csrf_cookie(request: Request, response: Response) -> None:
    token: str | None = getattr(request.state, "csrf_token", None)
    if token is None or token == request.cookies.get(CSRF_COOKIE):
        return
    response.set_cookie(
        CSRF_COOKIE,
        token,
        max_age=int(CSRF_COOKIE_LIFETIME.total_seconds()),
        path="/",
        secure=is_https(request),
        httponly=True,
        samesite="lax",
    )


async def require_csrf(request: Request) -> None:
    expected = request.cookies.get(CSRF_COOKIE, "")
    submitted: object = request.headers.get(CSRF_HEADER)
    if submitted is None:
        submitted = (await request.form()).get(CSRF_FIELD)
    if not (
        expected
        and isinstance(submitted, str)
        and hmac.compare_digest(expected.encode(), submitted.encode())
    ):
        raise Forbidden(
            "this form has expired or was sent from another site: reload the page and try again"
        )

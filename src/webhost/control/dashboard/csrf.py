"""CSRF tokens of the dashboard, bound to the browser's session.

Every state-changing dashboard request carries the page's token (a hidden form field, or the
``X-CSRF-Token`` header htmx sends). The server recomputes the token it expects; nothing in the
request chooses it:

- logged in: ``HMAC(key, "session", SHA-256 of the session token)``, from the session cookie;
- anonymous (the login and signup forms): ``HMAC(key, "anonymous", id)``, where ``id`` comes from
  a pre-session cookie the server minted and signed, valid for a day.

The key is derived from the platform's secret key. Another site can make the browser send its
cookies but cannot read a page to learn the token, nor compute one, and a cookie/field pair the
client made up fails. Logging in changes the binding, so a token planted beforehand dies.
"""

from __future__ import annotations

import hmac
import re
import secrets
import time
from datetime import timedelta

from fastapi import Request, Response

from webhost.control.dependencies import get_platform
from webhost.errors import Forbidden
from webhost.security.signing import sign, signature_matches
from webhost.security.tokens import digest

PRESESSION_COOKIE = "webhost_presession"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
PRESESSION_LIFETIME = timedelta(days=1)
# id (24 random bytes) . unix time of issue . signature of both
_PRESESSION = re.compile(r"^([A-Za-z0-9_-]{32})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})$")


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def bind_to_session(request: Request, session_token: str) -> None:
    """The request belongs to a live session: its forms are bound to it."""
    request.state.csrf_session = session_token


def csrf_token(request: Request) -> str:
    """The token this request's page carries; an anonymous browser gets a pre-session first."""
    token: str | None = getattr(request.state, "csrf_token", None)
    if token is None:
        token = _expected_token(request)
        if token is None:
            presession = _mint_presession(request)
            token = sign(_key(request), "anonymous", presession)
        request.state.csrf_token = token
    return token


def store_presession_cookie(request: Request, response: Response) -> None:
    cookie: str | None = getattr(request.state, "new_presession_cookie", None)
    if cookie is None:
        return
    response.set_cookie(
        PRESESSION_COOKIE,
        cookie,
        max_age=int(PRESESSION_LIFETIME.total_seconds()),
        path="/",
        secure=is_https(request),
        httponly=True,
        samesite="lax",
    )


def end_presession(request: Request, response: Response) -> None:
    response.delete_cookie(
        PRESESSION_COOKIE, path="/", secure=is_https(request), httponly=True, samesite="lax"
    )


def check_csrf(request: Request, submitted: object) -> None:
    expected = _expected_token(request)
    if not (
        expected is not None
        and isinstance(submitted, str)
        and hmac.compare_digest(expected.encode(), submitted.encode())
    ):
        raise Forbidden(
            "this form has expired or was sent from another site: reload the page and try again"
        )


def _expected_token(request: Request) -> str | None:
    session_token: str | None = getattr(request.state, "csrf_session", None)
    if session_token is not None:
        return sign(_key(request), "session", digest(session_token))
    presession = _valid_presession(request)
    if presession is not None:
        return sign(_key(request), "anonymous", presession)
    return None


def _mint_presession(request: Request) -> str:
    presession = secrets.token_urlsafe(24)
    issued = str(int(time.time()))
    signature = sign(_key(request), "presession", presession, issued)
    request.state.new_presession_cookie = f"{presession}.{issued}.{signature}"
    return presession


def _valid_presession(request: Request) -> str | None:
    """The id of a pre-session cookie this server minted less than a day ago, else None."""
    match = _PRESESSION.fullmatch(request.cookies.get(PRESESSION_COOKIE, ""))
    if match is None:
        return None
    presession, issued, signature = match.groups()
    if time.time() - int(issued) > PRESESSION_LIFETIME.total_seconds():
        return None
    if not signature_matches(_key(request), signature, "presession", presession, issued):
        return None
    return presession


def _key(request: Request) -> bytes:
    return get_platform(request).csrf_key

"""Reading credentials from requests, the same way on both planes."""

from __future__ import annotations


def bearer_token(authorization: str | None) -> str | None:
    """The credentials of an ``Authorization: Bearer <token>`` header, or None."""
    scheme, _, credentials = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


def socket_api_key(query_token: str | None, authorization: str | None) -> str | None:
    """A WebSocket's API key: ``?token=`` (browsers cannot set headers on one), else the header."""
    return query_token or bearer_token(authorization)

"""Logins as clients at many addresses make them: the platform trusts X-Forwarded-For from
loopback (uvicorn's proxy headers), so each test can speak from addresses of its own."""

from __future__ import annotations

import itertools
import uuid

import httpx

# the session platform's throttle: small thresholds and short waits, so tests run in seconds
FAST_LOGIN_THROTTLE = {
    "login_account_failures": 3,
    "login_address_failures": 6,
    "login_throttle_seconds": 3,
    "login_lockout_max_seconds": 12,
    "login_failure_window_seconds": 30,
}

_RUN = uuid.uuid4().hex[:4]
_ADDRESSES = itertools.count(1)


def fresh_address() -> str:
    """An address no other test uses (IPv6 documentation prefix)."""
    return f"2001:db8:{_RUN}::{next(_ADDRESSES):x}"


def log_in(control_url: str, email: str, password: str, address: str) -> httpx.Response:
    return httpx.post(
        f"{control_url}/api/login",
        json={"email": email, "password": password},
        headers={"X-Forwarded-For": address},
        timeout=30,
    )

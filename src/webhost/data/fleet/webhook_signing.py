"""Signatures of webhook deliveries: HMAC-SHA256 over the timestamp and the exact body.

Header ``WebHost-Signature: t=<unix seconds>,v1=<hex digest>`` where the digest is
HMAC-SHA256(secret, f"{t}.{body}"). A receiver recomputes it over the raw body, compares in
constant time, and refuses a timestamp older than its tolerance (5 minutes is advised), so a
captured delivery cannot be replayed later; ``WebHost-Delivery`` identifies a delivery for
receivers that also drop repeats.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "WebHost-Signature"
SECRET_PREFIX = "whsec_"  # noqa: S105 - a marker, not a secret
DEFAULT_TOLERANCE_SECONDS = 300


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature_header(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(
        secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(
    secret: str,
    body: bytes,
    header: str,
    now: int,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """What a receiver does (this is the Python version shown in docs/fleet.md)."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance_seconds:
        return False
    expected = signature_header(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))

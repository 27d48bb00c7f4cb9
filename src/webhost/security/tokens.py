"""Random secrets that are shown once and stored only as a SHA-256 digest."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def random_string(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def digest(secret: str) -> str:
    """High-entropy secrets need no slow hash: SHA-256 hex is enough and fast per request."""
    return hashlib.sha256(secret.encode()).hexdigest()


def digest_matches(expected_digest: str, secret: str) -> bool:
    return hmac.compare_digest(expected_digest, digest(secret))

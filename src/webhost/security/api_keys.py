"""The API key format shared by the control plane (which mints keys) and data planes (which check).

A key looks like ``whs_live_<12 chars>_<32 chars>``; everything before the last underscore is the
public prefix used for lookup, the rest is the secret, kept only as a digest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from webhost.security.tokens import digest, random_string

KEY_PREFIX = "whs_live_"
_KEY = re.compile(r"^(whs_live_[A-Za-z0-9]{12})_([A-Za-z0-9]{32})$")


@dataclass(frozen=True)
class NewApiKey:
    full_key: str
    prefix: str
    secret_digest: str


def generate_api_key() -> NewApiKey:
    prefix = KEY_PREFIX + random_string(12)
    full_key = f"{prefix}_{random_string(32)}"
    return NewApiKey(full_key=full_key, prefix=prefix, secret_digest=digest(full_key))


_KEY_SECRET = re.compile(r"(whs_live_[A-Za-z0-9]{12})_[A-Za-z0-9]{32}")


def redact_api_keys(text: str) -> str:
    """``text`` with the secret part of every API key in it masked (a tracker's URL holds its
    key in the path, and paths are logged)."""
    return _KEY_SECRET.sub(r"\1_***", text)


def split_api_key(raw: str) -> str | None:
    """The lookup prefix of a well-formed key, or None."""
    match = _KEY.fullmatch(raw.strip())
    return match.group(1) if match else None

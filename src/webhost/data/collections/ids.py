"""Ids for ``@id`` collections: globally unique and sortable by creation time.

26 characters of Crockford base32: 48 bits of milliseconds, then 80 random bits (a ULID). The
SDK makes the same ids offline, so two clients never invent the same one.
"""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_record_id() -> str:
    value = (time.time_ns() // 1_000_000) << 80 | secrets.randbits(80)
    return "".join(_ALPHABET[(value >> shift) & 31] for shift in range(125, -1, -5))

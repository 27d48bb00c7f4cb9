"""Keys derived from the platform's secret key, and HMAC-SHA256 signatures made with them."""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def derive_key(master_key: bytes, purpose: str) -> bytes:
    """A key for one purpose: knowing it reveals neither the master key nor other purposes' keys."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(
        master_key
    )


def sign(key: bytes, *parts: str) -> str:
    """URL-safe signature of ``parts``; each is length-prefixed, so no two lists sign alike."""
    message = b"".join(
        len(encoded).to_bytes(4, "big") + encoded for encoded in (part.encode() for part in parts)
    )
    mac = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def signature_matches(key: bytes, signature: str, *parts: str) -> bool:
    return hmac.compare_digest(sign(key, *parts).encode(), signature.encode())

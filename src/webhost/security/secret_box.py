"""Authenticated encryption (AES-256-GCM) for credentials stored in the control database."""

from __future__ import annotations

import base64
import binascii
import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from webhost.errors import ConfigurationError

_VERSION = b"\x01"
_NONCE_BYTES = 12


class SecretBox:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ConfigurationError("the secret key must be 32 bytes (base64-encoded)")
        self._aead = AESGCM(key)

    def encrypt(self, plaintext: bytes, *, context: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, context.encode())

    def decrypt(self, sealed: bytes, *, context: str) -> bytes:
        if not sealed.startswith(_VERSION):
            raise ConfigurationError("stored credential has an unknown format")
        nonce = sealed[1 : 1 + _NONCE_BYTES]
        try:
            return self._aead.decrypt(nonce, sealed[1 + _NONCE_BYTES :], context.encode())
        except InvalidTag as exc:
            raise ConfigurationError(
                "stored credential cannot be decrypted: was WEBHOST_SECRET_KEY changed?"
            ) from exc

    def seal_json(self, value: dict[str, Any], *, context: str) -> bytes:
        return self.encrypt(json.dumps(value, sort_keys=True).encode(), context=context)

    def open_json(self, sealed: bytes, *, context: str) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.decrypt(sealed, context=context))
        return loaded


def decode_key(encoded: str) -> bytes:
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigurationError("WEBHOST_SECRET_KEY is not valid base64") from exc


def load_or_create_key(path: Path) -> bytes:
    """The embedded default keeps its key beside the data, readable by the owner only."""
    if path.exists():
        return decode_key(path.read_text().strip())
    key = AESGCM.generate_key(bit_length=256)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(base64.b64encode(key).decode())
    return key

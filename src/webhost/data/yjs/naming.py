"""Document names: any printable text a client chooses, scoped to its tenant by the server."""

from __future__ import annotations

import unicodedata

from webhost.errors import InvalidInput

MAX_DOCUMENT_NAME = 255


def validate_document_name(raw: str) -> str:
    if not raw:
        raise InvalidInput("document name is empty")
    if len(raw) > MAX_DOCUMENT_NAME:
        raise InvalidInput(f"document name is longer than {MAX_DOCUMENT_NAME} characters")
    if any(unicodedata.category(char) in {"Cc", "Cs"} for char in raw):
        raise InvalidInput("document name contains control characters")
    return raw

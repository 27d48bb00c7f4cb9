"""Sync cursors: how far a client has pulled one collection, as an opaque string.

``1.<since>.<base>.<fingerprint>``: the client holds every change up to revision ``since``;
``base`` is the tenant revision at which its first sync began, while that sync is still under
way (0 once the client has caught up past it); the fingerprint names the collection and the
filter the cursor was made for, so a cursor never serves another scope.

Why ``base``: a first sync sends only records that are alive and match the filter. A record
whose last change is at or before ``base`` has not changed since the first sync began, so a
client that never received it does not need to be told to remove it; a record changed after
``base`` may have been sent earlier in the same sync, so its removal is sent.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from webhost.errors import InvalidInput

VERSION = "1"
_CURSOR = re.compile(r"^1\.(0|[1-9][0-9]{0,18})\.(0|[1-9][0-9]{0,18})\.([0-9a-f]{8})$")


def scope_fingerprint(collection: str, filter_text: str) -> str:
    return hashlib.sha256(f"{collection}\0{filter_text}".encode()).hexdigest()[:8]


@dataclass(frozen=True)
class Cursor:
    since: int
    base: int
    fingerprint: str

    def encode(self) -> str:
        # once a client is past its first sync's start, base no longer changes anything
        base = self.base if self.base > self.since else 0
        return f"{VERSION}.{self.since}.{base}.{self.fingerprint}"

    @classmethod
    def decode(cls, text: str) -> Cursor:
        match = _CURSOR.fullmatch(text)
        if match is None:
            raise InvalidInput(
                "cursor is not one this server handed out; send the cursor of the last pull "
                "unchanged, or null to sync from scratch"
            )
        return cls(int(match.group(1)), int(match.group(2)), match.group(3))

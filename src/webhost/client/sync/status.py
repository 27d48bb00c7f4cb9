"""What the sync engine has done and what it is waiting for, for apps to show and tests to read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from webhost.client.records import Key, Record


@dataclass(frozen=True)
class Rejection:
    """A local write the server refused; the replica shows the server's copy instead."""

    txid: str
    collection: str
    key: Key
    op: str
    code: str
    message: str
    record: Record | None  # the server's copy, as the replica now shows it (before later writes)


@dataclass(frozen=True)
class ServerLimits:
    max_body_bytes: int = 1_048_576
    max_mutations: int = 1000
    max_pull_changes: int = 5000

    @classmethod
    def from_json(cls, body: Any) -> ServerLimits:
        limits = body.get("limits") if isinstance(body, dict) else None
        if not isinstance(limits, dict):
            return cls()
        defaults = cls()

        def positive(name: str, default: int) -> int:
            value = limits.get(name)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return value
            return default

        return cls(
            positive("max_body_bytes", defaults.max_body_bytes),
            positive("max_mutations", defaults.max_mutations),
            positive("max_pull_changes", defaults.max_pull_changes),
        )


@dataclass
class SyncStatus:
    live: bool = False  # the notice socket is open
    pending: int = 0  # local mutations the server has not acknowledged
    pushed_transactions: int = 0
    duplicate_transactions: int = 0  # retried transactions the server had already applied
    pulled_pages: int = 0
    resets: int = 0  # collections the server made start over
    last_error: str | None = None  # why the last attempt to reach the server failed
    scope_errors: dict[str, str] = field(default_factory=dict)  # scopes the server cannot serve
    rejections: list[Rejection] = field(default_factory=list)

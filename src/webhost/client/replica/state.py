"""What the replica's worker thread holds: the connection, the client's identity and clock,
and the sync scopes (loaded once, kept in step with their rows)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from webhost.client.hlc import HybridLogicalClock
from webhost.data.collections.dexie_schema import CollectionSchema


@dataclass
class Scope:
    """One replicated collection: its schema, the filter of what it replicates, how far it has
    pulled (``None``: never)."""

    collection: str
    schema: CollectionSchema
    filter: str | None = None
    cursor: str | None = None

    @property
    def primary_key(self) -> str:
        return self.schema.primary_key


@dataclass
class ReplicaState:
    connection: sqlite3.Connection
    client_id: str
    clock: HybridLogicalClock
    scopes: dict[str, Scope] = field(default_factory=dict)

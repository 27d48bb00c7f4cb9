"""Committed revisions, told to whoever follows a tenant in this process.

A writing transaction notes what it changed on its connection (``note_changes``); whoever owns
the transaction takes the notes once it has committed (``take_notes``) and announces them, so
nobody hears of a change that could still roll back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

_NOTES = "webhost.sync.notes"


@dataclass(frozen=True)
class Committed:
    tenant: str
    revision: int
    collections: frozenset[str]


Listener = Callable[[Committed], None]


def note_changes(
    connection: AsyncConnection, tenant: str, revision: int, collections: Iterable[str]
) -> None:
    notes: list[Committed] = connection.info.setdefault(_NOTES, [])
    notes.append(Committed(tenant, revision, frozenset(collections)))


def take_notes(connection: AsyncConnection) -> list[Committed]:
    """The notes of the transaction; the connection's info outlives it, so they are removed."""
    notes: list[Committed] = connection.info.pop(_NOTES, [])
    return notes


class RevisionFeed:
    """Listeners per tenant, called on the event loop for every committed change."""

    def __init__(self) -> None:
        self._listeners: dict[str, set[Listener]] = {}

    def follow(self, tenant: str, listener: Listener) -> None:
        self._listeners.setdefault(tenant, set()).add(listener)

    def unfollow(self, tenant: str, listener: Listener) -> None:
        listeners = self._listeners.get(tenant)
        if listeners is not None:
            listeners.discard(listener)
            if not listeners:
                del self._listeners[tenant]

    def announce(self, notes: Iterable[Committed]) -> None:
        for committed in notes:
            for listener in list(self._listeners.get(committed.tenant, ())):
                listener(committed)

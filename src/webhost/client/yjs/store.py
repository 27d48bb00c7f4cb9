"""A document's updates kept in the replica file, so edits made offline survive a restart."""

from __future__ import annotations

from webhost.client.replica.state import ReplicaState


def load(state: ReplicaState, document: str) -> list[bytes]:
    rows = state.connection.execute(
        "SELECT data FROM yjs_updates WHERE document = ? ORDER BY position", (document,)
    ).fetchall()
    return [bytes(row[0]) for row in rows]


def append(state: ReplicaState, document: str, update: bytes) -> int:
    """Store one update; returns how many the document now has."""
    state.connection.execute(
        "INSERT INTO yjs_updates (document, data) VALUES (?, ?)", (document, update)
    )
    row = state.connection.execute(
        "SELECT count(*) FROM yjs_updates WHERE document = ?", (document,)
    ).fetchone()
    return int(row[0])


def replace(state: ReplicaState, document: str, snapshot: bytes) -> None:
    """Fold the stored updates into one: the document's whole state."""
    state.connection.execute("DELETE FROM yjs_updates WHERE document = ?", (document,))
    state.connection.execute(
        "INSERT INTO yjs_updates (document, data) VALUES (?, ?)", (document, snapshot)
    )

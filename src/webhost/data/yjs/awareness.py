"""Awareness (presence: cursors, user names) of one room, with the rules of y-protocols.

The server holds no state of its own; it keeps the latest state of every client so that
newcomers and query-awareness requests can be answered, and so that the states announced over
a socket can be retracted when that socket goes away.

y-websocket clients pass on every awareness change they hear, their peers' included, so an
echo of a known state is normal and changes nothing; only newer states count.
"""

from __future__ import annotations

from webhost.data.yjs.protocol import AwarenessState

_REMOVED = "null"


class AwarenessTable:
    def __init__(self) -> None:
        # clocks are kept after a removal so that a late, older state cannot resurrect a client
        self._latest: dict[int, AwarenessState] = {}

    def newer(self, states: tuple[AwarenessState, ...]) -> list[AwarenessState]:
        """The states that supersede what is known."""
        newer = []
        for incoming in states:
            current = self._latest.get(incoming.client_id)
            clock = 0 if current is None else current.clock
            if clock < incoming.clock or (clock == incoming.clock and incoming.is_removal):
                newer.append(incoming)
        return newer

    def record(self, newer: list[AwarenessState]) -> list[AwarenessState]:
        """Keep newer states; returns those that change who is present or how, to pass on."""
        changed = []
        for incoming in newer:
            current = self._latest.get(incoming.client_id)
            present = current is not None and not current.is_removal
            self._latest[incoming.client_id] = incoming
            if present or not incoming.is_removal:
                changed.append(incoming)
        return changed

    def present(self) -> list[AwarenessState]:
        return [state for state in self._latest.values() if not state.is_removal]

    def remove(self, client_ids: set[int]) -> list[AwarenessState]:
        """Retract clients that left without saying so, as the reference server does."""
        removed = []
        for client_id in sorted(client_ids):
            current = self._latest.get(client_id)
            if current is None or current.is_removal:
                continue
            gone = AwarenessState(client_id, current.clock + 1, _REMOVED)
            self._latest[client_id] = gone
            removed.append(gone)
        return removed

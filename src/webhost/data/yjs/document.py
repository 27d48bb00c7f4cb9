"""A room's in-memory document: every accepted update is applied to it exactly once.

Applying is also the check: an update that does not decode is refused with the document
untouched. One that decodes yet fails half-way through integration (crafted input can) may have
changed the document, so the room rebuilds it from storage (``DocumentDamaged``).
"""

from __future__ import annotations

from typing import Any

from pycrdt import Doc, get_update

from webhost.data.yjs.protocol import ProtocolError, claims_plausible_size, decode_state_vector


class UpdateRejected(Exception):
    """The update is not a Yjs update; the document is as it was."""


class DocumentDamaged(Exception):
    """The update failed half-way; the document may hold part of it and must be rebuilt."""


class LiveDocument:
    def __init__(self) -> None:
        self._doc: Doc[Any] = Doc()

    def apply(self, update: bytes) -> None:
        if not claims_plausible_size(update):
            raise UpdateRejected("malformed update")
        try:
            self._doc.apply_update(update)
        except ValueError:
            # pycrdt decodes the whole update before it touches the document
            raise UpdateRejected("malformed update") from None
        except BaseException as exc:
            # RuntimeError from integration, or a Rust panic (a BaseException)
            if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
                raise
            raise DocumentDamaged(str(exc)[:200]) from None

    def state_vector(self) -> bytes:
        return self._doc.get_state()

    def missing_from(self, state_vector: bytes) -> bytes:
        """The update a peer with this state vector lacks (sync step 2)."""
        try:
            return self._doc.get_update(state_vector)
        except ValueError:
            raise ProtocolError("unreadable state vector") from None

    def snapshot(self) -> bytes:
        """The whole document as one update: linear in its size, no log merging."""
        return self._doc.get_update()

    def unresolved(self, updates: list[bytes]) -> list[bytes]:
        """Of these applied updates, those the document still holds back, waiting for updates
        they depend on: a snapshot cannot carry them, so they must stay in the log."""
        if not updates:
            return []
        state = self.state_vector()
        clocks = decode_state_vector(state)
        return [update for update in updates if not _integrated(update, state, clocks)]

    def settle(self, updates: list[bytes]) -> list[bytes]:
        """Apply again the updates still unresolved; returns those that remain so. yrs drops a
        deletion whose target arrives later (y-crdt/y-crdt#582), so an update held back that
        way is integrated properly only by applying it once its dependencies are there."""
        waiting = self.unresolved(updates)
        for update in waiting:
            try:
                self.apply(update)
            except (UpdateRejected, DocumentDamaged):
                continue  # it applied once; it is kept as it is
        return self.unresolved(waiting)


def _integrated(update: bytes, state: bytes, clocks: dict[int, int]) -> bool:
    """Whether every struct and every deletion of the update is within the document's state."""
    remainder = get_update(update, state)
    # an update's structs section starts with its count of clients: none left over means every
    # struct is integrated; what follows is the delete set, whose ranges must all be known
    if remainder[0] != 0:
        return False
    return all(
        start + length <= clocks.get(client, 0)
        for client, start, length in _delete_ranges(remainder[1:])
    )


def _delete_ranges(data: bytes) -> list[tuple[int, int, int]]:
    position = 0

    def var_uint() -> int:
        nonlocal position
        value = shift = 0
        while True:
            byte = data[position]
            position += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7

    ranges = []
    for _ in range(var_uint()):
        client = var_uint()
        for _ in range(var_uint()):
            start = var_uint()
            ranges.append((client, start, var_uint()))
    return ranges

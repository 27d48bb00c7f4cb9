"""A room's in-memory copy of one document, which a bad update can never damage.

An update that decodes may still fail half-way through integration and leave a document
corrupted, so each update is first applied to a shadow copy ("staged"); only once that worked
and the update is stored is it applied to the document served to clients ("committed").
"""

from __future__ import annotations

from typing import Any

import structlog
from pycrdt import Doc, get_state, get_update

from webhost.data.yjs.protocol import ProtocolError, claims_plausible_size

# the room never reads the document's types, only its updates
Document = Doc[Any]

log = structlog.get_logger(__name__)


def update_is_readable(update: bytes) -> bool:
    """Decoding the whole update is the cheap first check, done before it is queued."""
    if not claims_plausible_size(update):
        return False
    try:
        get_state(update)
    except ValueError:
        return False
    return True


class DocumentReplica:
    def __init__(self) -> None:
        self._document: Document = Doc()
        self._shadow: Document = Doc()
        # updates whose dependencies have not arrived: a Doc keeps them but cannot export them
        self._pending: list[bytes] = []
        self._staged: list[bytes] = []

    def stage(self, update: bytes) -> bool:
        """Apply to the shadow copy only; False when the update is malformed."""
        if not claims_plausible_size(update):
            return False
        try:
            self._shadow.apply_update(update)
        except Exception as exc:
            log.info("yjs.update_rejected", error=str(exc)[:200])
            self._shadow = self._copy_document()
            return False
        self._staged.append(update)
        return True

    def discard_staged(self) -> None:
        """Forget staged updates that will not be committed (they could not be stored)."""
        self._staged.clear()
        self._shadow = self._copy_document()

    def commit(self, update: bytes) -> None:
        """Apply a staged (hence valid) update to the served document."""
        self._staged = [staged for staged in self._staged if staged is not update]
        try:
            self._document.apply_update(update)
        except Exception:
            # only a divergence of the two copies gets here; the shadow already holds the update
            log.exception("yjs.replica_diverged")
            self._document = self._shadow
            self._shadow = self._copy_document()
        self._track_pending(update)

    def state_vector(self) -> bytes:
        return self._document.get_state()

    def missing_from(self, state_vector: bytes) -> bytes:
        """The update a peer with this state vector lacks (sync step 2)."""
        try:
            return self._document.get_update(state_vector)
        except ValueError:
            raise ProtocolError("unreadable state vector") from None

    def full_update(self) -> bytes:
        return self._document.get_update()

    def _copy_document(self) -> Document:
        """The served document plus what it holds but cannot export, plus what is staged."""
        copy: Document = Doc()
        copy.apply_update(self._document.get_update())
        for update in [*self._pending, *self._staged]:
            try:
                copy.apply_update(update)
            except Exception:
                log.warning("yjs.replica_copy_incomplete")
        return copy

    def _track_pending(self, update: bytes) -> None:
        if self._pending or not _covers(self._document, update):
            self._pending = [
                waiting
                for waiting in [*self._pending, update]
                if not _covers(self._document, waiting)
            ]


def _covers(document: Document, update: bytes) -> bool:
    """Whether every struct of the update is integrated (none is waiting for a dependency)."""
    # what the update holds beyond the document's state starts with its count of clients
    return get_update(update, document.get_state())[0] == 0

"""How writes combine into a record: per field, the latest stamp wins; deletes beat updates.

A record's state is a set of registers, each keeping the write with the highest stamp: one per
field (a value, or "removed"), one for the last put (insert or replace) and one for the last
delete. Applying writes in any order gives the same state, so every replica converges:

- a put replaces the record: it sets each field it carries, and every field written before it
  is gone, unless the put carries it again; an update sets or removes only the fields it names,
  and a field it writes after the last put stays, whatever the order the writes arrive in;
- a delete hides the record; the record is alive while its last put is later than its last
  delete. An update never brings a record back (a delete beats concurrent updates); a put
  later than the delete does;
- fields written before the last put or the last delete are forgotten: nothing can make them
  visible again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Operation = Literal["put", "update", "delete"]


@dataclass(frozen=True)
class Write:
    """One write at this layer: ``insert`` and ``put`` are both puts here."""

    operation: Operation
    stamp: str
    values: dict[str, Any] = field(default_factory=dict)
    removed: tuple[str, ...] = ()


@dataclass
class RecordState:
    values: dict[str, Any] = field(default_factory=dict)  # visible and hidden field values
    stamps: dict[str, str] = field(default_factory=dict)  # a field without a value was removed
    put_stamp: str = ""
    delete_stamp: str = ""
    stored: bool = False  # the row exists in the database

    @property
    def alive(self) -> bool:
        return self.put_stamp > self.delete_stamp

    @property
    def visible(self) -> dict[str, Any]:
        return dict(self.values) if self.alive else {}

    @property
    def hidden(self) -> dict[str, Any] | None:
        """Values written after a delete that no put has revived yet: kept for when one does."""
        return None if self.alive or not self.values else dict(self.values)

    @property
    def latest_stamp(self) -> str:
        return max([self.put_stamp, self.delete_stamp, *self.stamps.values()])

    def copy(self) -> RecordState:
        return RecordState(
            dict(self.values), dict(self.stamps), self.put_stamp, self.delete_stamp, self.stored
        )

    def apply(self, write: Write) -> None:
        if write.operation == "delete":
            self.delete_stamp = max(self.delete_stamp, write.stamp)
        else:
            if write.operation == "put":
                self.put_stamp = max(self.put_stamp, write.stamp)
            for name, value in write.values.items():
                self._set(name, value, write.stamp)
            for name in write.removed:
                self._set(name, _REMOVED, write.stamp)
        self._forget_superseded()

    def _set(self, name: str, value: Any, stamp: str) -> None:
        if stamp <= self.stamps.get(name, ""):
            return
        self.stamps[name] = stamp
        if value is _REMOVED:
            self.values.pop(name, None)
        else:
            self.values[name] = value

    def _forget_superseded(self) -> None:
        """Fields older than the last put (which replaced the record) or the last delete."""
        stale = [
            name
            for name in {*self.stamps, *self.values}
            if (stamp := self.stamps.get(name, "")) < self.put_stamp or stamp <= self.delete_stamp
        ]
        for name in stale:
            self.stamps.pop(name, None)
            self.values.pop(name, None)


_REMOVED: Any = object()

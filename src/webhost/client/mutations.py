"""A local write as it waits in the outbox and travels in a push, and how it changes a record
in the replica (the server merges it field by field with everyone's writes; the replica shows
it on top of the server's copy, which is what the server's merge gives once it arrives)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from webhost.client.records import Key, Record

Operation = Literal["insert", "put", "update", "delete"]


@dataclass(frozen=True)
class Mutation:
    collection: str
    op: Operation
    key: Key
    fields: Record = field(default_factory=dict)
    removed: tuple[str, ...] = ()
    stamp: str = ""

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"collection": self.collection, "op": self.op, "key": self.key}
        if self.op != "delete":
            body["fields"] = self.fields
        if self.op == "update" and self.removed:
            body["removed"] = list(self.removed)
        if self.stamp:
            body["stamp"] = self.stamp
        return body

    def applied_to(self, record: Record | None, primary_key: str) -> Record | None:
        """The record once this write is on top: a put replaces it, an update changes the
        fields it names of a live record (it never brings one back), a delete removes it."""
        if self.op in ("insert", "put"):
            return {primary_key: self.key, **self.fields}
        if self.op == "delete" or record is None:
            return None
        changed = {name: value for name, value in record.items() if name not in self.removed}
        changed.update(self.fields)
        return changed

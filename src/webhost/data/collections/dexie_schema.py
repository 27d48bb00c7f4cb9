"""Dexie-style schema strings: ``"++id, title, &email, *tags, [authorId+updatedAt]"``.

The first entry is the primary key (``++id`` auto-incremented, ``@id`` a globally unique id the
client generates, as in Dexie Cloud, ``id`` chosen by the app: a string or a number);
the rest are indexes: plain, unique (``&``), multi-entry (``*``) or compound (``[a+b]``).
Key paths may be dotted (``address.city``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from webhost.errors import InvalidInput

MAX_INDEXES = 32
MAX_SCHEMA_LENGTH = 2000
_SEGMENT = r"[A-Za-z_][A-Za-z0-9_]{0,62}"
KEY_PATH = re.compile(rf"^{_SEGMENT}(\.{_SEGMENT}){{0,7}}$")
COLLECTION_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,47}$")


@dataclass(frozen=True)
class IndexSpec:
    key_paths: tuple[str, ...]
    unique: bool = False
    multi_entry: bool = False

    @property
    def compound(self) -> bool:
        return len(self.key_paths) > 1

    @property
    def source(self) -> str:
        """The index written back in Dexie syntax."""
        body = self.key_paths[0] if not self.compound else "[" + "+".join(self.key_paths) + "]"
        return ("&" if self.unique else "") + ("*" if self.multi_entry else "") + body

    def sql_name(self, collection: str) -> str:
        """A stable, length-safe PostgreSQL index name."""
        fingerprint = hashlib.sha256(f"{collection}:{self.source}".encode()).hexdigest()[:20]
        return f"ix_{fingerprint}"

    def to_json(self) -> dict[str, Any]:
        return {
            "keyPaths": list(self.key_paths),
            "unique": self.unique,
            "multiEntry": self.multi_entry,
            "source": self.source,
        }


@dataclass(frozen=True)
class CollectionSchema:
    primary_key: str
    auto_increment: bool
    indexes: tuple[IndexSpec, ...]
    generated_key: bool = False

    @property
    def source(self) -> str:
        marker = "++" if self.auto_increment else "@" if self.generated_key else ""
        head = marker + self.primary_key
        return ", ".join([head, *(index.source for index in self.indexes)])

    def index_on(self, key_path: str) -> IndexSpec | None:
        """The single-field index over ``key_path``, if there is one."""
        for index in self.indexes:
            if index.key_paths == (key_path,):
                return index
        return None


def validate_collection_name(name: str) -> str:
    if not COLLECTION_NAME.fullmatch(name):
        raise InvalidInput(
            f"invalid collection name {name!r}: use 1-48 letters, digits or underscores, "
            "starting with a letter"
        )
    return name


def validate_key_path(key_path: str, *, what: str = "field") -> str:
    if not KEY_PATH.fullmatch(key_path):
        raise InvalidInput(
            f"invalid {what} {key_path!r}: use letters, digits and underscores, "
            "dot-separated for nested fields"
        )
    return key_path


def parse_schema(source: str) -> CollectionSchema:
    if not isinstance(source, str) or not source.strip():
        raise InvalidInput("schema is empty: give at least a primary key, e.g. '++id'")
    if len(source) > MAX_SCHEMA_LENGTH:
        raise InvalidInput(f"schema is longer than {MAX_SCHEMA_LENGTH} characters")
    entries = [entry.strip() for entry in source.split(",")]
    for position, entry in enumerate(entries, start=1):
        if not entry:
            raise InvalidInput(f"schema entry {position} is empty (check for doubled commas)")
    primary_key, auto_increment, generated_key = _parse_primary_key(entries[0])
    indexes: list[IndexSpec] = []
    seen: set[tuple[str, ...]] = {(primary_key,)}
    for entry in entries[1:]:
        index = _parse_index(entry)
        if index.key_paths in seen:
            raise InvalidInput(f"index {entry!r} is declared twice (or repeats the primary key)")
        seen.add(index.key_paths)
        indexes.append(index)
    if len(indexes) > MAX_INDEXES:
        raise InvalidInput(f"a collection may have at most {MAX_INDEXES} indexes")
    return CollectionSchema(primary_key, auto_increment, tuple(indexes), generated_key)


def _parse_primary_key(entry: str) -> tuple[str, bool, bool]:
    auto_increment = entry.startswith("++")
    generated_key = entry.startswith("@")
    name = entry[2:] if auto_increment else entry[1:] if generated_key else entry
    if not name:
        raise InvalidInput(
            "primary key must name a field (e.g. '@id', '++id' or 'id'); "
            "outbound keys are not supported"
        )
    if name.startswith(("[", "&", "*", "@", "+")):
        raise InvalidInput(
            f"primary key {entry!r} is not supported: use a single field, '@id', '++id' or 'id'"
        )
    validate_key_path(name, what="primary key")
    if "." in name:
        raise InvalidInput(f"primary key {entry!r} must be a top-level field, not a nested path")
    return name, auto_increment, generated_key


def _parse_index(entry: str) -> IndexSpec:
    body = entry
    unique = body.startswith("&")
    if unique:
        body = body[1:]
    multi_entry = body.startswith("*")
    if multi_entry:
        body = body[1:]
    if body.startswith(("++", "@")):
        raise InvalidInput(
            f"index {entry!r}: only the primary key (first entry) can be '++' or '@'"
        )
    if body.startswith("[") or body.endswith("]"):
        if not (body.startswith("[") and body.endswith("]")):
            raise InvalidInput(f"compound index {entry!r} must be written as [a+b]")
        if multi_entry:
            raise InvalidInput(f"index {entry!r}: a compound index cannot be multi-entry")
        parts = [part.strip() for part in body[1:-1].split("+")]
        if len(parts) < 2:
            raise InvalidInput(f"compound index {entry!r} needs at least two fields")
        if len(set(parts)) != len(parts):
            raise InvalidInput(f"compound index {entry!r} repeats a field")
        return IndexSpec(tuple(validate_key_path(part) for part in parts), unique=unique)
    return IndexSpec((validate_key_path(body),), unique=unique, multi_entry=multi_entry)

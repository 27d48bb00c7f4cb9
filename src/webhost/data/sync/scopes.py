"""Sync scopes: the collections a client replicates, each narrowed by a REST-style filter."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl

from webhost.data.collections.dexie_schema import validate_collection_name
from webhost.data.collections.query import Condition, parse_condition
from webhost.data.sync.cursors import scope_fingerprint
from webhost.errors import InvalidInput
from webhost.validation import require_storable_text

MAX_FILTER_LENGTH = 4000
MAX_CONDITIONS = 32
_NOT_FILTERS = {"order", "limit", "offset", "select"}


@dataclass(frozen=True)
class Scope:
    collection: str
    filter_text: str = ""
    conditions: tuple[Condition, ...] = ()

    @property
    def fingerprint(self) -> str:
        return scope_fingerprint(self.collection, self.filter_text)


def parse_scope(collection: str, filter_text: str | None) -> Scope:
    """``filter_text`` is a REST query string of conditions: ``projectId=eq.42&done=is.false``."""
    validate_collection_name(collection)
    text = (filter_text or "").strip()
    if len(text) > MAX_FILTER_LENGTH:
        raise InvalidInput(
            f"filter of {collection!r} is longer than {MAX_FILTER_LENGTH} characters"
        )
    require_storable_text(text, what=f"filter of {collection!r}")
    items = parse_qsl(text, keep_blank_values=True)
    if len(items) > MAX_CONDITIONS:
        raise InvalidInput(f"filter of {collection!r} has more than {MAX_CONDITIONS} conditions")
    for name, _value in items:
        if name in _NOT_FILTERS:
            raise InvalidInput(
                f"filter of {collection!r}: {name} has no place in a sync scope, which takes "
                "conditions only (e.g. projectId=eq.42)"
            )
    return Scope(collection, text, tuple(parse_condition(name, raw) for name, raw in items))

"""A collection as stored, and the SQL names and key types of its records' table.

Keys: a ``++id`` collection's keys are bigints; every other collection keeps its keys as jsonb,
so a key stays the string or number the app chose.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from webhost.data.collections.dexie_schema import CollectionSchema
from webhost.data.collections.limits import MAX_AUTO_ID
from webhost.data.tenancy.scope import Tenant
from webhost.db.admin import quote_ident
from webhost.errors import InvalidInput, NotFound
from webhost.validation import require_storable_text

Key = int | float | str

# a key in a URL is also tried as a number when it is written the way JSON writes numbers
_NUMBER_IN_URL = re.compile(r"^-?(0|[1-9][0-9]{0,15})(\.[0-9]{1,17})?$")


@dataclass(frozen=True)
class StoredCollection:
    name: str
    schema: CollectionSchema
    index_names: dict[str, str]  # index source -> SQL index name


class RecordTable:
    """SQL fragments for one collection's table, and its key rules."""

    def __init__(self, tenant: Tenant, collection: StoredCollection) -> None:
        self.tenant = tenant
        self.collection = collection
        self.schema = collection.schema
        self.qualified = f"{quote_ident(tenant.name)}.{quote_ident('c_' + collection.name)}"
        self.output = f"(jsonb_build_object('{self.schema.primary_key}', pk) || data)::text"
        # a key list travels as one JSON array; this turns its elements into keys
        self.key_element = "(value #>> '{}')::bigint" if self.schema.auto_increment else "value"

    def key_param(self, key: Key) -> str | int:
        """A key as a bound parameter for ``pk = :key``."""
        return int(key) if self.schema.auto_increment else json.dumps(key)

    @property
    def key_cast(self) -> str:
        return "bigint" if self.schema.auto_increment else "jsonb"

    def pk_value(self, value: Any) -> Key:
        """Coerce a filter value to the primary key's type (auto-increment ids are integers)."""
        if self.schema.auto_increment:
            return self._integer_key(value)
        return self.body_key(value)

    def url_keys(self, record_id: str) -> list[Key]:
        """The keys a URL segment may mean: the string, then the number it spells, if any."""
        if self.schema.auto_increment:
            return [self._integer_key(record_id)]
        keys: list[Key] = [require_storable_text(record_id, what=self.schema.primary_key)]
        if _NUMBER_IN_URL.fullmatch(record_id):
            number = float(record_id) if "." in record_id else int(record_id)
            keys.append(number)
        return keys

    def body_key(self, value: Any) -> Key:
        """A key given in a record: exactly an integer (``++id``), else a string or a number."""
        name = self.schema.primary_key
        if self.schema.auto_increment:
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidInput(f"{name} must be an integer (it is auto-incremented)")
            return self._integer_key(value)
        if isinstance(value, str):
            if not value:
                raise InvalidInput(f"{name} must not be empty")
            return require_storable_text(value, what=name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(f"{name} must be a string or a number")
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidInput(f"{name} must be a finite number")
        if isinstance(value, float) and value.is_integer() and abs(value) > MAX_AUTO_ID:
            # stored as the decimal it is written as, it would come back as another number
            raise InvalidInput(
                f"{name} {value!r} is a whole number past 2^53 written as a float, which a key "
                "cannot keep exactly: send it as an integer, or as a string"
            )
        return value

    def _integer_key(self, value: Any) -> int:
        name = self.schema.primary_key
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise InvalidInput(f"{name} is an integer")
        try:
            number = int(value)
        except ValueError as exc:
            raise InvalidInput(f"{name} is an integer") from exc
        if not 0 < number < 2**63:
            raise InvalidInput(f"{name} is out of range")
        return number


def no_record(collection: str, key: Key) -> NotFound:
    """The 404 of a missing record; a long key is cut, the message need not echo kilobytes."""
    shown = repr(key) if len(repr(key)) <= 100 else repr(key)[:100] + "..."
    return NotFound(f"no record {shown} in collection {collection!r}")


def json_path(key_path: str, *, as_text: bool = False) -> str:
    """``data -> 'a'`` or ``data #> '{a,b}'``; the same text is used in index definitions."""
    parts = key_path.split(".")
    if len(parts) == 1:
        return f"(data {'->>' if as_text else '->'} '{key_path}')"
    return f"(data {'#>>' if as_text else '#>'} '{{{','.join(parts)}}}')"

"""A collection as stored, and the SQL names and key types of its records' table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from webhost.data.collections.dexie_schema import CollectionSchema
from webhost.data.tenancy.scope import Tenant
from webhost.db.admin import quote_ident
from webhost.errors import InvalidInput
from webhost.validation import require_storable_text


@dataclass(frozen=True)
class StoredCollection:
    name: str
    schema: CollectionSchema
    index_names: dict[str, str]  # index source -> SQL index name


class RecordTable:
    """SQL fragments for one collection's table."""

    def __init__(self, tenant: Tenant, collection: StoredCollection) -> None:
        self.collection = collection
        self.schema = collection.schema
        self.qualified = f"{quote_ident(tenant.name)}.{quote_ident('c_' + collection.name)}"
        self.output = f"(jsonb_build_object('{self.schema.primary_key}', pk) || data)::text"

    def pk_value(self, value: Any) -> int | str:
        """Coerce a filter or path value to the primary key's column type."""
        if self.schema.auto_increment:
            if isinstance(value, bool) or not isinstance(value, int | str):
                raise InvalidInput(f"{self.schema.primary_key} is an integer")
            try:
                number = int(value)
            except ValueError as exc:
                raise InvalidInput(f"{self.schema.primary_key} is an integer") from exc
            if not 0 < number < 2**63:
                raise InvalidInput(f"{self.schema.primary_key} is out of range")
            return number
        if isinstance(value, bool) or value is None or not isinstance(value, str | int | float):
            raise InvalidInput(f"{self.schema.primary_key} is a string")
        return require_storable_text(str(value), what=self.schema.primary_key)


def json_path(key_path: str, *, as_text: bool = False) -> str:
    """``data -> 'a'`` or ``data #> '{a,b}'``; the same text is used in index definitions."""
    parts = key_path.split(".")
    if len(parts) == 1:
        return f"(data {'->>' if as_text else '->'} '{key_path}')"
    return f"(data {'#>>' if as_text else '#>'} '{{{','.join(parts)}}}')"

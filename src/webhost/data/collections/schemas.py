from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from webhost.data.collections.limits import MAX_EXPLICIT_ID, MAX_INDEXED_BYTES
from webhost.data.collections.tables import StoredCollection
from webhost.validation import MAX_JSON_DEPTH


class CollectionDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_: str = Field(
        alias="schema",
        description="Dexie schema string: primary key first, then indexes.",
        examples=["++id, title, authorId, updatedAt"],
    )


class IndexOut(BaseModel):
    keyPaths: list[str]
    unique: bool
    multiEntry: bool
    source: str


class CollectionOut(BaseModel):
    name: str
    schema_: str = Field(serialization_alias="schema")
    primaryKey: str
    autoIncrement: bool
    indexes: list[IndexOut]

    @classmethod
    def of(cls, collection: StoredCollection) -> CollectionOut:
        schema = collection.schema
        return cls(
            name=collection.name,
            schema_=schema.source,
            primaryKey=schema.primary_key,
            autoIncrement=schema.auto_increment,
            indexes=[IndexOut(**index.to_json()) for index in schema.indexes],
        )


RECORD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": True,
    "description": "A record: any JSON object. The primary key field is optional on create; "
    f"in a `++id` collection a new record's own id is at most {MAX_EXPLICIT_ID} (2^52). "
    f"A text id, and the value of a field in a plain, unique or compound index (its fields "
    f"counted together), is at most {MAX_INDEXED_BYTES} bytes of UTF-8. "
    f"Objects and arrays nest at most {MAX_JSON_DEPTH} levels; strings and keys cannot hold "
    "NUL (U+0000); numbers must be finite.",
}

"""Records and keys as the client holds them, checked before anything is written locally.

The checks are those the server applies to every write, so a write the local API accepts is
one the server can store (unique indexes aside, which only the server can see).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from webhost.client.errors import LocalInputError
from webhost.data.collections.limits import MAX_INDEXED_BYTES
from webhost.errors import InvalidInput
from webhost.validation import check_json

Key = str | int | float
Record = dict[str, Any]


def check_key(key: object, *, what: str = "key") -> Key:
    """A string of at most MAX_INDEXED_BYTES UTF-8 bytes, or a finite number."""
    if isinstance(key, str):
        if not key:
            raise LocalInputError(f"{what} must not be empty")
        _check_json(key, what)
        if len(key.encode("utf-8")) > MAX_INDEXED_BYTES:
            raise LocalInputError(f"{what} is longer than {MAX_INDEXED_BYTES} bytes of UTF-8")
        return key
    if isinstance(key, bool) or not isinstance(key, int | float):
        raise LocalInputError(f"{what} must be a string or a number, not {type(key).__name__}")
    if isinstance(key, float) and not math.isfinite(key):
        raise LocalInputError(f"{what} must be a finite number")
    return key


def key_text(key: Key) -> str:
    """The key as JSON text: how the replica stores it, so 7 and "7" stay two keys."""
    return json.dumps(key, ensure_ascii=False)


def key_from_text(text: str) -> Key:
    key: Key = json.loads(text)
    return key


def check_record(record: object, *, what: str = "record") -> Record:
    """A JSON object: text keys, values of JSON's types, storable text, finite numbers."""
    if not isinstance(record, Mapping):
        raise LocalInputError(f"{what} must be a dict (a JSON object), not {type(record).__name__}")
    copied = _json_copy(record, what)
    _check_json(copied, what)
    assert isinstance(copied, dict)
    return copied


def check_field_names(names: object, *, what: str) -> tuple[str, ...]:
    if isinstance(names, str | bytes | Mapping) or not isinstance(names, Iterable):
        raise LocalInputError(f"{what} must be a list of field names")
    names = list(names)
    for name in names:
        if not isinstance(name, str) or not name:
            raise LocalInputError(f"{what} must hold non-empty field names, got {name!r}")
        _check_json(name, what)
    return tuple(dict.fromkeys(names))


def record_text(record: Record) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def _check_json(value: object, what: str) -> None:
    try:
        check_json(value, what=what)
    except InvalidInput as exc:
        raise LocalInputError(exc.message) from None


def _json_copy(value: object, what: str) -> object:
    """A deep copy made of dicts, lists and JSON scalars; anything else is refused. Iterative,
    so no depth of input exhausts the stack (check_json bounds the depth afterwards)."""
    root: list[object] = [None]
    stack: list[tuple[object, list[object] | dict[str, object], int | str, str]] = [
        (value, root, 0, "")
    ]
    while stack:
        node, parent, slot, path = stack.pop()
        copied: object
        if node is None or isinstance(node, str | bool | int | float):
            copied = node
        elif isinstance(node, Mapping):
            copied = {}
            for name, child in node.items():
                if not isinstance(name, str):
                    raise LocalInputError(
                        f"{what}: keys of objects must be strings, got {name!r} at {_at(path)}"
                    )
                stack.append((child, copied, name, f"{path}.{name}" if path else name))
        elif isinstance(node, list | tuple):
            items: list[object] = [None] * len(node)
            copied = items
            stack.extend(
                (child, items, index, f"{path}[{index}]") for index, child in enumerate(node)
            )
        else:
            raise LocalInputError(
                f"{what}: {type(node).__name__} at {_at(path)} is not a JSON value "
                "(use dicts, lists, strings, numbers, booleans and None)"
            )
        parent[slot] = copied  # type: ignore[index]
    return root[0]


def _at(path: str) -> str:
    return path or "the top level"

"""YAML written without a YAML library, for cloud-init documents.

Only block mappings and sequences of str, int, bool and None. Every string is double-quoted
(or, when it is plain multi-line text, a literal block), so YAML 1.1 never reads one back as a
boolean, a number or a date ("on", "0600", "2024-01-01"), and any character survives.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TypeAlias, TypeGuard

Scalar: TypeAlias = str | int | bool | None
Value: TypeAlias = Scalar | Sequence["Value"] | Mapping[str, "Value"]

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
_PLAIN_KEY = re.compile(r"[a-z_][a-z0-9_]*")
_YAML11_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})
_BLOCK_LINE = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?|")  # no edge spaces or tabs


def quoted(text: str) -> str:
    """A double-quoted YAML scalar; everything but printable ASCII is escaped."""
    parts = ['"']
    for char in text:
        code = ord(char)
        if char in _ESCAPES:
            parts.append(_ESCAPES[char])
        elif 0x20 <= code < 0x7F:
            parts.append(char)
        elif code <= 0xFF:
            parts.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            parts.append(f"\\u{code:04x}")
        else:
            parts.append(f"\\U{code:08x}")
    parts.append('"')
    return "".join(parts)


def _scalar(value: Scalar) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return quoted(value)


def _key(key: str) -> str:
    plain = _PLAIN_KEY.fullmatch(key) and key not in _YAML11_WORDS
    return key if plain else quoted(key)


def _literal_lines(text: str) -> list[str] | None:
    """The lines of ``text`` for a ``|`` block, when the block reads back exactly."""
    if not text.endswith("\n") or text.endswith("\n\n") or text.startswith("\n"):
        return None
    lines = text[:-1].split("\n")
    if not lines[0] or not all(_BLOCK_LINE.fullmatch(line) for line in lines):
        return None
    return lines


def _is_scalar(value: Value) -> TypeGuard[Scalar]:
    return value is None or isinstance(value, str | int | bool)


def _is_scalar_list(value: Value) -> TypeGuard[Sequence[Scalar]]:
    return (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and bool(value)
        and all(map(_is_scalar, value))
    )


def _node(value: Value, indent: int) -> list[str]:
    """Lines for a collection at ``indent`` spaces."""
    pad = " " * indent
    if isinstance(value, Mapping):
        if not value:
            return [pad + "{}"]
        lines = []
        for key, item in value.items():
            lines.extend(_entry(f"{pad}{_key(key)}:", item, indent))
        return lines
    assert isinstance(value, Sequence)
    assert not isinstance(value, str)
    if not value:
        return [pad + "[]"]
    lines = []
    for item in value:
        if _is_scalar_list(item):
            flow = ", ".join(map(_scalar, item))
            lines.append(f"{pad}- [{flow}]")
        elif isinstance(item, Mapping) and item:
            nested = _node(item, indent + 2)
            lines.append(f"{pad}- {nested[0][indent + 2 :]}")
            lines.extend(nested[1:])
        else:
            lines.extend(_entry(f"{pad}-", item, indent))
    return lines


def _entry(head: str, value: Value, indent: int) -> list[str]:
    """``head`` (a key with its colon, or a dash) followed by its value."""
    if isinstance(value, str) and (block := _literal_lines(value)) is not None:
        body = " " * (indent + 2)
        return [f"{head} |", *(body + line if line else "" for line in block)]
    if _is_scalar(value):
        return [f"{head} {_scalar(value)}"]
    if not value:
        return [f"{head} {'{}' if isinstance(value, Mapping) else '[]'}"]
    return [head, *_node(value, indent + 2)]


def dump(document: Mapping[str, Value]) -> str:
    return "\n".join(_node(document, 0)) + "\n"

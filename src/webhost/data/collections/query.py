"""PostgREST-style list queries: ``?title=eq.Hello&updatedAt=gt.5&order=title.desc&limit=10``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from webhost.data.collections.dexie_schema import validate_key_path
from webhost.errors import InvalidInput
from webhost.validation import check_json, load_json

OPERATORS = frozenset({"eq", "neq", "gt", "gte", "lt", "lte", "like", "ilike", "in", "is", "cs"})
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
_NUMBER = re.compile(r"^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$")
_INTEGER = re.compile(r"^-?(0|[1-9]\d*)$")

JsonScalar = str | int | float | bool | None


@dataclass(frozen=True)
class Condition:
    key_path: str
    operator: str
    value: Any
    negated: bool = False


@dataclass(frozen=True)
class Ordering:
    key_path: str
    descending: bool = False
    nulls_first: bool | None = None


@dataclass(frozen=True)
class ListQuery:
    conditions: tuple[Condition, ...] = ()
    ordering: tuple[Ordering, ...] = ()
    limit: int = DEFAULT_LIMIT
    offset: int = 0


def parse_scalar(raw: str) -> JsonScalar:
    """``5`` is a number, ``true``/``false``/``null`` are literals, ``"5"`` forces a string."""
    if len(raw) >= 2 and raw.startswith('"') and raw.endswith('"'):
        try:
            decoded = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"invalid quoted value {raw!r}") from exc
        if not isinstance(decoded, str):
            raise InvalidInput(f"invalid quoted value {raw!r}")
        return decoded
    if raw in {"true", "false"}:
        return raw == "true"
    if raw == "null":
        return None
    if _INTEGER.fullmatch(raw):
        try:
            return int(raw)
        except ValueError as exc:  # past Python's limit on digits converted at once
            raise InvalidInput(f"integer {raw[:20]}... has too many digits") from exc
    if _NUMBER.fullmatch(raw):
        return float(raw)
    return raw


def parse_list(raw: str) -> list[JsonScalar]:
    """``(a,b,"c,d")`` -> ["a", "b", "c,d"]."""
    if not (raw.startswith("(") and raw.endswith(")")):
        raise InvalidInput(f"'in' takes a parenthesised list like in.(a,b), got {raw!r}")
    items: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in raw[1:-1]:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\" and quoted:
            current.append(char)
            escaped = True
        elif char == '"':
            quoted = not quoted
            current.append(char)
        elif char == "," and not quoted:
            items.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    if quoted:
        raise InvalidInput(f"unterminated quote in list {raw!r}")
    items.append("".join(current).strip())
    if items == [""]:
        raise InvalidInput("'in' needs at least one value")
    if len(items) > MAX_LIMIT:
        raise InvalidInput(f"'in' takes at most {MAX_LIMIT} values")
    return [parse_scalar(item) for item in items]


def parse_condition(key_path: str, expression: str) -> Condition:
    validate_key_path(key_path)
    operator, dot, operand = expression.partition(".")
    negated = operator == "not"
    if negated:
        operator, dot, operand = operand.partition(".")
    if not dot or operator not in OPERATORS:
        raise InvalidInput(
            f"filter {key_path}={expression!r} needs an operator, e.g. {key_path}=eq.value "
            f"(operators: {', '.join(sorted(OPERATORS))})"
        )
    value: Any
    if operator == "in":
        value = parse_list(operand)
    elif operator == "is":
        if operand not in {"null", "true", "false"}:
            raise InvalidInput(f"filter {key_path}: 'is' takes null, true or false")
        value = parse_scalar(operand)
    elif operator in {"like", "ilike"}:
        value = operand.replace("*", "%")
    elif operator == "cs":
        try:
            value = load_json(operand, what=f"filter {key_path}")
        except ValueError as exc:
            raise InvalidInput(
                f'filter {key_path}: \'cs\' takes JSON, e.g. cs.["a"] or cs.{{"k":1}}'
            ) from exc
    else:
        value = parse_scalar(operand)
    check_json(value, what=f"filter {key_path}")
    if operator in {"gt", "gte", "lt", "lte"} and not isinstance(value, str | int | float):
        raise InvalidInput(f"filter {key_path}: {operator} compares numbers or strings")
    return Condition(key_path, operator, value, negated)


def parse_ordering(raw: str) -> tuple[Ordering, ...]:
    orderings = []
    for term in raw.split(","):
        parts = term.strip().split(".")
        modifiers = {"asc", "desc", "nullsfirst", "nullslast"}
        split_at = len(parts)
        while split_at > 1 and parts[split_at - 1] in modifiers:
            split_at -= 1
        key_path = ".".join(parts[:split_at])
        validate_key_path(key_path, what="order field")
        flags = parts[split_at:]
        if len(flags) != len(set(flags)) or ("asc" in flags and "desc" in flags):
            raise InvalidInput(f"order term {term!r} has conflicting modifiers")
        nulls: bool | None = None
        if "nullsfirst" in flags or "nullslast" in flags:
            nulls = "nullsfirst" in flags
        orderings.append(Ordering(key_path, descending="desc" in flags, nulls_first=nulls))
    return tuple(orderings)


def _parse_bounded_int(name: str, raw: str, *, minimum: int, maximum: int) -> int:
    try:
        value = int(raw)
    except ValueError as exc:
        raise InvalidInput(f"{name} must be an integer, got {raw!r}") from exc
    if not minimum <= value <= maximum:
        raise InvalidInput(f"{name} must be between {minimum} and {maximum}")
    return value


def parse_list_query(params: Iterable[tuple[str, str]]) -> ListQuery:
    conditions: list[Condition] = []
    ordering: tuple[Ordering, ...] = ()
    limit, offset = DEFAULT_LIMIT, 0
    for name, raw in params:
        if name == "order":
            ordering = parse_ordering(raw)
        elif name == "limit":
            limit = _parse_bounded_int("limit", raw, minimum=1, maximum=MAX_LIMIT)
        elif name == "offset":
            offset = _parse_bounded_int("offset", raw, minimum=0, maximum=10_000_000)
        elif name == "select":
            raise InvalidInput("select is not supported: records are returned whole")
        else:
            conditions.append(parse_condition(name, raw))
    return ListQuery(tuple(conditions), ordering, limit, offset)

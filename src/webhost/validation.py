"""Input checks shared by both planes: text PostgreSQL can store, JSON of bounded depth."""

from __future__ import annotations

import json
import math
from typing import Annotated, Any

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from webhost.errors import InvalidInput

MAX_JSON_DEPTH = 64

_Path = tuple[str | int, ...]


def text_problem(value: str) -> str | None:
    """Why PostgreSQL text (and jsonb) cannot hold ``value``, or None when it can."""
    if "\x00" in value:
        return "contains a NUL character (U+0000), which cannot be stored"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "contains an unpaired surrogate code point, which is not valid Unicode"
    return None


def require_storable_text(value: str, what: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise InvalidInput(f"{what} {problem}")
    return value


def _storable_text(value: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise PydanticCustomError("unstorable_text", problem)
    return value


# a request-model string that PostgreSQL text can hold
StorableText = Annotated[str, AfterValidator(_storable_text)]


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def load_json(raw: str, *, what: str) -> Any:
    """Parse JSON text and check it with ``check_json``; syntax errors raise ValueError."""
    value = parse_json(raw, what=what)
    check_json(value, what=what)
    return value


def parse_json(raw: str, *, what: str) -> Any:
    """Parse JSON text, refusing NaN and Infinity; syntax errors raise ValueError."""
    try:
        return json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError as exc:
        # the parser gives up near Python's recursion limit, far past MAX_JSON_DEPTH
        raise InvalidInput(_too_deep(what)) from exc


def check_json(value: Any, *, what: str) -> None:
    """Refuse JSON nested past MAX_JSON_DEPTH, text jsonb cannot hold and non-finite numbers.

    Iterative, so no depth of input can exhaust the stack.
    """
    stack: list[tuple[Any, int, _Path]] = [(value, 0, ())]
    while stack:
        node, depth, path = stack.pop()
        if isinstance(node, str):
            problem = text_problem(node)
            if problem is not None:
                raise InvalidInput(f"{what}: the string at {_render(path)} {problem}")
        elif isinstance(node, dict):
            if depth == MAX_JSON_DEPTH:
                raise InvalidInput(_too_deep(what))
            for key, child in node.items():
                problem = text_problem(key)
                if problem is not None:
                    raise InvalidInput(
                        f"{what}: the key {json.dumps(key)} at {_render(path)} {problem}"
                    )
                stack.append((child, depth + 1, (*path, key)))
        elif isinstance(node, list):
            if depth == MAX_JSON_DEPTH:
                raise InvalidInput(_too_deep(what))
            stack.extend((child, depth + 1, (*path, n)) for n, child in enumerate(node))
        elif isinstance(node, float) and not math.isfinite(node):
            raise InvalidInput(
                f"{what}: the number at {_render(path)} is out of range (numbers must be finite)"
            )


def _too_deep(what: str) -> str:
    return (
        f"{what} nests objects and arrays more than {MAX_JSON_DEPTH} levels deep "
        f"(the limit is {MAX_JSON_DEPTH})"
    )


def _render(path: _Path) -> str:
    """``a.b[2]``, or ``the top level`` for the value itself."""
    if not path:
        return "the top level"
    rendered = ""
    for part in path:
        if isinstance(part, int):
            rendered += f"[{part}]"
        elif part.isidentifier() and part.isascii():
            rendered += f".{part}" if rendered else part
        else:
            rendered += f"[{json.dumps(part)}]"
    return rendered

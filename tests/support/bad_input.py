"""Generated bad input (hypothesis strategies) and the error shape every refusal must have."""

from __future__ import annotations

import random
from typing import Any

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# examples go over HTTP to a real server: no deadline, same examples on every run
OVER_HTTP = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def any_case(text: str) -> st.SearchStrategy[str]:
    """``text`` with each letter upper- or lower-cased independently."""
    return st.lists(st.booleans(), min_size=len(text), max_size=len(text)).map(
        lambda flips: "".join(
            c.upper() if up else c.lower() for c, up in zip(text, flips, strict=True)
        )
    )


def json_media_types() -> st.SearchStrategy[str]:
    """``application/json`` and ``+json`` types, any letter case, with or without a charset."""
    base = st.sampled_from(
        ["application/json", "application/vnd.api+json", "application/merge-patch+json"]
    )
    charset = st.sampled_from(["", "; charset=utf-8", ";charset=UTF-8", " ; Charset=utf-8"])
    return st.tuples(base.flatmap(any_case), charset.flatmap(any_case)).map("".join)


def assert_clear_error(response: httpx.Response, status: int | None = None) -> dict[str, Any]:
    """A client error: 4xx, ``{"error": {"code", "message"}}``, never a server error."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:500])
    if status is not None:
        assert response.status_code == status, response.text[:500]
    error: dict[str, Any] = response.json()["error"]
    assert set(error) <= {"code", "message", "details"}
    assert error["code"]
    assert isinstance(error["code"], str)
    assert error["message"]
    assert isinstance(error["message"], str)
    return error


def json_values(max_leaves: int = 20) -> st.SearchStrategy[Any]:
    """Any JSON value PostgreSQL's jsonb can hold (no NUL, finite numbers)."""
    text = st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]))
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        text,
    )
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4)
        ),
        max_leaves=max_leaves,
    )


def nul_strings() -> st.SearchStrategy[str]:
    """Text with at least one NUL character (U+0000) somewhere in it."""
    return st.tuples(st.text(max_size=20), st.text(max_size=20)).map("\x00".join)


def nested_text(depth: int, kinds: list[bool], leaf: str = "1") -> str:
    """JSON text nesting ``depth`` containers around ``leaf``; kinds[n] picks object or array."""
    opening = "".join('{"k":' if kinds[n % len(kinds)] else "[" for n in range(depth))
    closing = "".join("}" if kinds[n % len(kinds)] else "]" for n in reversed(range(depth)))
    return opening + leaf + closing


def nested_json_text(min_depth: int, max_depth: int) -> st.SearchStrategy[str]:
    """JSON text nested ``min_depth``-``max_depth`` levels, objects and arrays mixed."""
    return st.builds(
        nested_text,
        st.integers(min_depth, max_depth),
        st.lists(st.booleans(), min_size=1, max_size=8),
    )


def wrapped(leaf: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``leaf`` placed somewhere inside generated objects and arrays."""
    steps = st.lists(st.one_of(st.text(max_size=8).filter(lambda k: "\x00" not in k), st.none()))

    def wrap(value: Any, path: list[str | None]) -> Any:
        for key in reversed(path):
            value = [value] if key is None else {key: value}
        return value

    return st.builds(wrap, leaf, steps.map(lambda path: path[:10]))


def unstorable_json() -> st.SearchStrategy[Any]:
    """JSON with a NUL in a string or a key, somewhere inside."""
    return wrapped(st.one_of(nul_strings(), nul_strings().map(lambda key: {key: 1})))


def out_of_range_numbers() -> st.SearchStrategy[str]:
    """Number literals past the range of a double, which Python reads as infinity."""
    return st.builds(
        "{}{}e{}".format,
        st.sampled_from(["", "-"]),
        st.integers(1, 9),
        st.integers(309, 100_000),
    )


# code points whose UTF-8 form takes 1, 2, 3 and 4 bytes (no NUL, no surrogates)
_CODE_POINTS_BY_WIDTH = {
    1: (0x21, 0x7E),
    2: (0x80, 0x7FF),
    3: (0x800, 0xD7FF),
    4: (0x10000, 0x10FFFF),
}


def random_text(seed: int, size: int, width: int) -> str:
    """Incompressible text of exactly ``size`` UTF-8 bytes, mostly of ``width``-byte characters."""
    rnd = random.Random(seed)
    low, high = _CODE_POINTS_BY_WIDTH[width]
    text = [chr(rnd.randint(low, high)) for _ in range(size // width)]
    text += [chr(rnd.randint(0x21, 0x7E)) for _ in range(size % width)]
    return "".join(text)


def sized_text(min_bytes: int, max_bytes: int) -> st.SearchStrategy[str]:
    """Random text of ``min_bytes``-``max_bytes`` UTF-8 bytes, in characters of any width."""
    return st.builds(
        random_text,
        st.integers(0, 2**32),
        st.integers(min_bytes, max_bytes),
        st.sampled_from(list(_CODE_POINTS_BY_WIDTH)),
    )

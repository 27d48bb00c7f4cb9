from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from tests.support.bad_input import (
    json_values,
    nested_json_text,
    nul_strings,
    out_of_range_numbers,
    unstorable_json,
)
from webhost.errors import InvalidInput
from webhost.validation import (
    MAX_JSON_DEPTH,
    StorableText,
    check_json,
    load_json,
    text_problem,
)

storable_text = st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]))
lone_surrogates = st.tuples(
    st.text(max_size=10), st.characters(categories=["Cs"]), st.text(max_size=10)
).map("".join)


@given(storable_text)
def test_text_without_nul_or_lone_surrogates_is_storable(value: str) -> None:
    assert text_problem(value) is None
    assert TypeAdapter(StorableText).validate_python(value) == value


@given(st.one_of(nul_strings(), lone_surrogates))
def test_nul_and_lone_surrogates_are_named(value: str) -> None:
    problem = text_problem(value)
    assert problem is not None
    assert ("NUL" if "\x00" in value else "surrogate") in problem
    with pytest.raises(ValidationError, match=re.escape(problem)):
        TypeAdapter(StorableText).validate_python(value)


@given(nested_json_text(1, MAX_JSON_DEPTH))
def test_json_up_to_the_depth_limit_is_read(text: str) -> None:
    assert load_json(text, what="body") == json.loads(text)


@given(nested_json_text(MAX_JSON_DEPTH + 1, 100_000))
def test_deeper_json_is_refused_naming_the_limit(text: str) -> None:
    with pytest.raises(InvalidInput, match=f"more than {MAX_JSON_DEPTH} levels deep"):
        load_json(text, what="body")


@given(st.integers(MAX_JSON_DEPTH + 1, 200_000))
def test_the_depth_check_does_not_recurse(depth: int) -> None:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    with pytest.raises(InvalidInput, match="levels deep"):
        check_json(value, what="body")


@given(json_values())
def test_json_jsonb_can_hold_passes(value: Any) -> None:
    check_json({"record": value}, what="body")


@given(unstorable_json())
def test_nul_anywhere_in_json_is_refused(value: Any) -> None:
    with pytest.raises(InvalidInput, match=r"NUL character \(U\+0000\)"):
        check_json(value, what="body")


@given(out_of_range_numbers())
def test_numbers_past_a_double_are_refused(literal: str) -> None:
    with pytest.raises(InvalidInput, match="out of range"):
        load_json(f'{{"n": [{literal}]}}', what="body")


def test_errors_say_where_the_problem_is() -> None:
    with pytest.raises(InvalidInput, match=r"the string at a\.b\[1\] contains a NUL"):
        check_json({"a": {"b": ["ok", "no\x00"]}}, what="body")
    with pytest.raises(InvalidInput, match=r'the key "x\\u0000" at a\["b c"\] contains a NUL'):
        check_json({"a": {"b c": {"x\x00": 1}}}, what="body")
    with pytest.raises(ValueError, match="NaN is not valid JSON"):
        load_json('{"n": NaN}', what="body")

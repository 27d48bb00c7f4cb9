from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webhost.data.collections.query import (
    Condition,
    Ordering,
    parse_list_query,
    parse_scalar,
)
from webhost.errors import InvalidInput


def test_values_are_typed_like_json() -> None:
    assert parse_scalar("Hello") == "Hello"
    assert parse_scalar("5") == 5
    assert parse_scalar("-2.5") == -2.5
    assert parse_scalar('"5"') == "5"
    assert parse_scalar("true") is True
    assert parse_scalar("null") is None
    assert parse_scalar("05") == "05"


def test_filters_order_and_paging() -> None:
    query = parse_list_query(
        [
            ("title", "eq.Hello"),
            ("updatedAt", "gt.5"),
            ("authorId", 'in.(a,b,"c,d")'),
            ("deleted", "not.is.true"),
            ("order", "updatedAt.desc.nullslast,title"),
            ("limit", "10"),
            ("offset", "20"),
        ]
    )
    assert query.conditions == (
        Condition("title", "eq", "Hello"),
        Condition("updatedAt", "gt", 5),
        Condition("authorId", "in", ["a", "b", "c,d"]),
        Condition("deleted", "is", True, negated=True),
    )
    assert query.ordering == (
        Ordering("updatedAt", descending=True, nulls_first=False),
        Ordering("title"),
    )
    assert (query.limit, query.offset) == (10, 20)


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ([("title", "Hello")], "needs an operator"),
        ([("title", "between.1")], "needs an operator"),
        ([("title';--", "eq.1")], "invalid field"),
        ([("limit", "ten")], "limit must be an integer"),
        ([("limit", "100000")], "between 1 and 1000"),
        ([("offset", "-1")], "between 0"),
        ([("order", "ti-tle.desc")], "invalid order field"),
        ([("order", "title.asc.desc")], "conflicting"),
        ([("tags", "in.a,b")], "parenthesised"),
        ([("tags", 'in.("a,b)')], "unterminated"),
        ([("n", "gt.null")], "compares numbers or strings"),
        ([("n", "is.maybe")], "'is' takes"),
        ([("select", "title")], "select is not supported"),
    ],
)
def test_bad_queries_name_the_problem(params: list[tuple[str, str]], problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        parse_list_query(params)


@given(st.lists(st.tuples(st.text(max_size=12), st.text(max_size=20)), max_size=5))
def test_arbitrary_query_strings_never_crash(params: list[tuple[str, str]]) -> None:
    with contextlib.suppress(InvalidInput):
        parse_list_query(params)

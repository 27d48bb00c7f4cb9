"""The merge of writes into a record converges: any order of the same writes, the same record."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from webhost.data.collections.clock import stamp_text
from webhost.data.collections.record_state import RecordState, Write

FIELDS = ["a", "b", "c"]
values = st.dictionaries(st.sampled_from(FIELDS), st.integers(0, 3), max_size=3)
writes = st.lists(
    st.tuples(
        st.sampled_from(["put", "update", "delete"]),
        values,
        st.lists(st.sampled_from(FIELDS), max_size=2, unique=True),
    ),
    max_size=8,
)


def stamped(history: list[tuple[Any, dict[str, int], list[str]]]) -> list[Write]:
    """Each write gets its own stamp, as clocks guarantee; two nodes interleave."""
    return [
        Write(operation, stamp_text(1000 + n // 2, f"node{n % 2}"), dict(fields), tuple(removed))
        for n, (operation, fields, removed) in enumerate(history)
    ]


def applied(writes_in_order: list[Write]) -> RecordState:
    state = RecordState()
    for write in writes_in_order:
        state.apply(write)
    return state


@given(history=writes, order=st.randoms(use_true_random=False))
def test_any_order_of_the_same_writes_gives_the_same_record(
    history: list[tuple[Any, dict[str, int], list[str]]], order: random.Random
) -> None:
    in_stamp_order = stamped(history)
    shuffled = list(in_stamp_order)
    order.shuffle(shuffled)
    expected, actual = applied(in_stamp_order), applied(shuffled)
    assert (actual.alive, actual.visible) == (expected.alive, expected.visible)
    # applying a write again changes nothing (a retried push)
    again = applied(shuffled + shuffled)
    assert (again.alive, again.visible) == (expected.alive, expected.visible)


def write(operation: Any, at: int, removed: tuple[str, ...] = (), **fields: object) -> Write:
    return Write(operation, stamp_text(at), dict(fields), removed)


def test_updates_of_different_fields_both_stay() -> None:
    state = applied([write("put", 1, a=0, b=0), write("update", 3, b=2), write("update", 2, a=1)])
    assert state.visible == {"a": 1, "b": 2}


def test_the_later_stamp_wins_a_field_whatever_arrives_last() -> None:
    state = applied(
        [write("put", 1, a=0), write("update", 3, a="later"), write("update", 2, a="x")]
    )
    assert state.visible == {"a": "later"}


def test_a_delete_beats_an_update_made_after_it() -> None:
    for order in ([1, 2], [2, 1]):
        updates = {1: write("delete", 5), 2: write("update", 6, a="edited")}
        state = applied([write("put", 1, a=0), *(updates[n] for n in order)])
        assert not state.alive
        assert state.visible == {}


def test_a_put_after_the_delete_brings_the_record_back_with_later_updates() -> None:
    state = applied([write("put", 1, a=0, b=0), write("delete", 2), write("update", 4, b=9)])
    assert not state.alive
    state.apply(write("put", 3, a=1))
    assert state.visible == {"a": 1, "b": 9}


def test_a_put_replaces_fields_written_before_it() -> None:
    state = applied([write("put", 1, a=0, b=0), write("update", 2, c=0), write("put", 3, a=1)])
    assert state.visible == {"a": 1}
    state.apply(write("update", 4, removed=("a",)))
    assert state.visible == {}
    assert state.alive

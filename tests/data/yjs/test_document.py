from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycrdt import Doc, Map, Text

from tests.data.yjs.documents import (
    HALF_APPLYING_UPDATE,
    append_text,
    crafted_target,
    loaded,
    text_edits,
    text_of,
)
from webhost.data.yjs.document import DocumentDamaged, LiveDocument, UpdateRejected


def live(*updates: bytes) -> LiveDocument:
    document = LiveDocument()
    for update in updates:
        document.apply(update)
    return document


def test_an_update_that_fails_half_way_is_reported_as_damage() -> None:
    document = live(crafted_target().get_update())

    with pytest.raises(DocumentDamaged):
        document.apply(HALF_APPLYING_UPDATE)


@settings(deadline=None)  # a slow machine is not a failure
@given(st.binary(max_size=64))
def test_random_bytes_are_refused_or_reported_never_anything_else(garbage: bytes) -> None:
    document = live(crafted_target().get_update())
    before = document.snapshot()
    try:
        document.apply(garbage)
    except UpdateRejected:
        # refused before it touched anything
        assert document.snapshot() == before
    except DocumentDamaged:
        pass  # the room rebuilds such a document from storage


def test_an_update_claiming_millions_of_clients_is_refused_before_decoding() -> None:
    with pytest.raises(UpdateRejected):
        LiveDocument().apply(b"\x80\x80\x80\x7f")


def test_the_snapshot_is_the_whole_document() -> None:
    edits = text_edits("one ", "two ", "three")
    assert text_of(loaded(live(*edits).snapshot())) == "one two three"


def test_an_update_waiting_for_its_dependency_is_unresolved_until_it_arrives() -> None:
    first, second = text_edits("a", "b")
    document = live(second)

    assert document.unresolved([second]) == [second]

    document.apply(first)
    assert document.unresolved([second, first]) == []


def test_a_deletion_of_something_not_yet_seen_is_unresolved() -> None:
    writer: Doc[Any] = Doc()
    insert = append_text(writer, "gone")
    before = writer.get_state()
    del writer.get("text", type=Text)[0:4]
    deletion = writer.get_update(before)
    document = live(deletion)

    assert document.unresolved([deletion]) == [deletion]

    document.apply(insert)
    assert document.unresolved([deletion]) == []
    assert text_of(loaded(document.snapshot())) == ""


def edit_history(operations: list[tuple[int, str]]) -> tuple[list[bytes], str]:
    """One update per operation of two writers that see each other's edits: inserts and
    deletions in text and map, so later updates depend on earlier ones."""
    writers: list[Doc[Any]] = [Doc(client_id=1), Doc(client_id=2)]
    updates = []
    for writer_index, value in operations:
        writer = writers[writer_index % 2]
        before = writer.get_state()
        text = writer.get("text", type=Text)
        if value == "-" and len(text):
            del text[0]
        else:
            text.insert(len(text) // 2, value)
            writer.get("map", type=Map)[value] = writer_index
        update = writer.get_update(before)
        updates.append(update)
        for other in writers:
            other.apply_update(update)
    return updates, str(writers[0].get("text", type=Text))


@settings(deadline=None, max_examples=80)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.sampled_from(["a", "b", "-", "zz"])),
        min_size=1,
        max_size=14,
    ),
    st.randoms(use_true_random=False),
    st.integers(0, 14),
)
def test_what_compaction_keeps_loses_nothing_whatever_the_order_of_arrival(
    operations: list[tuple[int, str]], shuffler: Any, cut: int
) -> None:
    """What compaction keeps (the settled snapshot + the unresolved updates), loaded and
    completed with the updates that had not arrived yet, is the document the writers ended
    with, wherever keeping every update and applying them in arrival order gets it right."""
    updates, final_text = edit_history(operations)
    arrival = list(updates)
    shuffler.shuffle(arrival)
    arrived, later = arrival[:cut], arrival[cut:]
    document = live(*arrived)

    carried = document.settle(arrived)
    kept = [document.snapshot(), *carried]

    reloaded = text_of(loaded(live(*kept, *later).snapshot()))
    direct = text_of(loaded(live(*arrived, *later).snapshot()))
    assert reloaded == final_text or direct != final_text


def test_settling_recovers_what_yrs_loses_when_updates_arrive_out_of_order() -> None:
    """y-crdt/y-crdt#582: applied in this order, yrs loses a deletion that arrived before its
    target and with it part of the text; settling (done at each compaction) recovers it."""
    updates, final_text = edit_history([(0, "a"), (0, "b"), (1, "a"), (1, "-"), (0, "a")])
    arrival = [updates[index] for index in (2, 4, 3, 0, 1)]
    document = live(*arrival)
    assert text_of(loaded(document.snapshot())) != final_text  # the upstream bug

    assert document.settle(arrival) == []
    assert text_of(loaded(document.snapshot())) == final_text

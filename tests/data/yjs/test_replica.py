from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pycrdt import Doc, Map

from tests.data.yjs.documents import (
    HALF_APPLYING_UPDATE,
    append_text,
    crafted_target,
    loaded,
    text_edits,
    text_of,
)
from webhost.data.yjs.replica import DocumentReplica


def loaded_replica(doc: Doc[Any]) -> DocumentReplica:
    replica = DocumentReplica()
    update = doc.get_update()
    assert replica.stage(update)
    replica.commit(update)
    return replica


def content(update: bytes) -> tuple[str, Any]:
    doc = loaded(update)
    return text_of(doc, "t"), doc.get("m", type=Map).to_py()


def test_an_update_that_fails_half_way_leaves_the_document_untouched() -> None:
    doc = crafted_target()
    replica = loaded_replica(doc)

    assert not replica.stage(HALF_APPLYING_UPDATE)

    assert content(replica.full_update()) == ("hello", {"a": 1.0, "s": "x"})
    # and the room carries on: the next good update is staged and committed as usual
    good = append_text(doc, "!", root="t")
    assert replica.stage(good)
    replica.commit(good)
    assert content(replica.full_update())[0] == "hello!"


@settings(deadline=None)  # a slow machine is not a failure
@given(st.binary(max_size=48))
def test_random_bytes_never_reach_the_document(garbage: bytes) -> None:
    replica = loaded_replica(crafted_target())
    before = replica.full_update()
    if replica.stage(garbage):
        replica.discard_staged()
    assert replica.full_update() == before


def test_an_update_waiting_for_its_dependency_is_kept_until_it_arrives() -> None:
    first, second = text_edits("a", "b")
    replica = DocumentReplica()

    assert replica.stage(second)
    replica.commit(second)
    # a failed update rebuilds the shadow copy, which must still know the waiting update
    assert not replica.stage(b"\x01\x02garbage")
    assert replica.stage(first)
    replica.commit(first)

    assert text_of(loaded(replica.full_update())) == "ab"


def test_staged_updates_that_were_not_stored_are_forgotten() -> None:
    replica = DocumentReplica()
    (lost,) = text_edits("lost")
    assert replica.stage(lost)

    replica.discard_staged()

    assert text_of(loaded(replica.full_update())) == ""
    assert replica.stage(lost)
    replica.commit(lost)
    assert text_of(loaded(replica.full_update())) == "lost"

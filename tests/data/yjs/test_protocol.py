from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycrdt import Doc, Text, create_sync_message, create_update_message

from tests.data.yjs.peers import QUERY_AWARENESS, awareness_message
from webhost.data.yjs import protocol
from webhost.data.yjs.protocol import (
    AwarenessState,
    AwarenessUpdate,
    ProtocolError,
    SyncStep1,
    SyncUpdate,
    parse_message,
)


def edited_doc(value: str = "hello") -> Doc[Any]:
    doc: Doc[Any] = Doc()
    text = doc.get("text", type=Text)
    text += value
    return doc


def test_parses_what_a_yjs_client_sends() -> None:
    doc = edited_doc()
    assert parse_message(create_sync_message(doc)) == SyncStep1(doc.get_state())
    update = doc.get_update()
    assert parse_message(create_update_message(update)) == SyncUpdate(update)
    assert parse_message(QUERY_AWARENESS) == protocol.QueryAwareness()
    assert parse_message(awareness_message(7, 3, {"user": "ada"})) == AwarenessUpdate(
        (AwarenessState(7, 3, '{"user": "ada"}'),)
    )


def test_encodes_what_a_yjs_client_reads() -> None:
    doc = edited_doc()
    assert protocol.encode_sync_step1(doc.get_state()) == create_sync_message(doc)
    update = doc.get_update()
    assert protocol.encode_update(update) == create_update_message(update)
    state = AwarenessState(7, 3, '{"user":"ada"}')
    assert parse_message(protocol.encode_awareness([state])) == AwarenessUpdate((state,))


def test_a_null_state_is_a_removal_however_it_is_spelled() -> None:
    message = parse_message(protocol.encode_awareness([AwarenessState(7, 4, " null ")]))
    assert message == AwarenessUpdate((AwarenessState(7, 4, "null"),))
    assert message.states[0].is_removal


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (b"", "truncated message type"),
        (b"\x07", "unknown message type 7"),
        (b"\x00\x05", "unknown sync message type 5"),
        (b"\x00\x02", "truncated update length"),
        (b"\x00\x02\x05ab", "truncated update"),
        (b"\x00\x00\x01\x09", "truncated state vector client"),
        (b"\x00\x02\x02\x00\x00extra", "trailing bytes after message"),
        (b"\xff\xff\xff\xff\xff\xff\xff\xff\xff", "message type out of range"),
        (b"\x01\x05\x01\x01\x01\x01{", "awareness state is not JSON"),
        (b"\x01\x07\x01\x01\x01\x03NaN", "awareness state holds NaN, which is not JSON"),
        (b"\x01\x05\x01\x01\x01\x01\xff", "awareness state is not UTF-8"),
    ],
)
def test_malformed_frames_are_refused_with_a_reason(frame: bytes, reason: str) -> None:
    with pytest.raises(ProtocolError) as refused:
        parse_message(frame)
    assert refused.value.reason == reason


def test_auth_messages_are_ignored() -> None:
    assert parse_message(b"\x02\x00\x03abc") == protocol.Auth()


def refusal(frame: bytes) -> str | None:
    try:
        parse_message(frame)
    except ProtocolError as refused:
        return refused.reason
    return None


@settings(deadline=None)  # a slow machine is not a failure
@given(st.binary(max_size=64))
def test_any_bytes_parse_or_are_refused_with_a_short_reason(frame: bytes) -> None:
    reason = refusal(frame)
    assert reason is None or 0 < len(reason.encode()) <= 120

"""The y-websocket wire protocol: one message per binary WebSocket frame.

A frame starts with a varuint message type: 0 sync (step 1, step 2, update), 1 awareness,
2 auth, 3 query awareness. Parsing is strict and total: any input either yields a message or
raises ``ProtocolError``, so a hostile client can only ever close its own socket.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pycrdt import write_var_uint

MESSAGE_SYNC = 0
MESSAGE_AWARENESS = 1
MESSAGE_AUTH = 2
MESSAGE_QUERY_AWARENESS = 3

SYNC_STEP1 = 0
SYNC_STEP2 = 1
SYNC_UPDATE = 2

# a presence state is a cursor, a name, a colour: far below this
MAX_AWARENESS_STATE_BYTES = 32 * 1024
# lib0 varuints carry at most 53 bits (JavaScript's safe integers)
_MAX_VAR_UINT = 2**53 - 1
_MAX_VAR_UINT_BYTES = 8
_EMPTY_UPDATE = b"\x00\x00"


class ProtocolError(Exception):
    """A frame that is not a y-websocket message; ``reason`` is short enough for a close frame."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SyncStep1:
    state_vector: bytes


@dataclass(frozen=True)
class SyncUpdate:
    """Sync step 2 and sync update both carry a document update and are handled alike."""

    update: bytes

    @property
    def is_empty(self) -> bool:
        return self.update == _EMPTY_UPDATE


@dataclass(frozen=True)
class AwarenessState:
    client_id: int
    clock: int
    state: str  # JSON text as the client sent it; "null" when the client went away

    @property
    def is_removal(self) -> bool:
        return self.state == "null"


@dataclass(frozen=True)
class AwarenessUpdate:
    states: tuple[AwarenessState, ...]


@dataclass(frozen=True)
class QueryAwareness:
    pass


@dataclass(frozen=True)
class Auth:
    pass


Message = SyncStep1 | SyncUpdate | AwarenessUpdate | QueryAwareness | Auth


class _Reader:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._position = 0

    def var_uint(self, what: str) -> int:
        value = 0
        for index in range(_MAX_VAR_UINT_BYTES):
            if self._position >= len(self._data):
                raise ProtocolError(f"truncated {what}")
            byte = self._data[self._position]
            self._position += 1
            value |= (byte & 0x7F) << (7 * index)
            if byte < 0x80:
                if value > _MAX_VAR_UINT:
                    break
                return value
        raise ProtocolError(f"{what} out of range")

    def next_length(self) -> int:
        """The length prefix of the next byte string, without consuming it."""
        position = self._position
        try:
            return self.var_uint("length")
        finally:
            self._position = position

    def var_bytes(self, what: str) -> bytes:
        length = self.var_uint(f"{what} length")
        end = self._position + length
        if end > len(self._data):
            raise ProtocolError(f"truncated {what}")
        chunk = self._data[self._position : end]
        self._position = end
        return chunk

    def var_string(self, what: str) -> str:
        try:
            return self.var_bytes(what).decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError(f"{what} is not UTF-8") from None

    def expect_end(self, what: str) -> None:
        if self._position != len(self._data):
            raise ProtocolError(f"trailing bytes after {what}")


def parse_message(frame: bytes, *, max_awareness_states: int = 1024) -> Message:
    """``max_awareness_states`` bounds the states one awareness message may carry."""
    reader = _Reader(frame)
    kind = reader.var_uint("message type")
    message: Message
    if kind == MESSAGE_SYNC:
        step = reader.var_uint("sync message type")
        if step == SYNC_STEP1:
            state_vector = reader.var_bytes("state vector")
            decode_state_vector(state_vector)
            message = SyncStep1(state_vector)
        elif step in (SYNC_STEP2, SYNC_UPDATE):
            message = SyncUpdate(reader.var_bytes("update"))
        else:
            raise ProtocolError(f"unknown sync message type {step}")
    elif kind == MESSAGE_AWARENESS:
        payload = reader.var_bytes("awareness update")
        message = AwarenessUpdate(_parse_awareness(payload, max_awareness_states))
    elif kind == MESSAGE_QUERY_AWARENESS:
        message = QueryAwareness()
    elif kind == MESSAGE_AUTH:
        # servers send auth messages, clients do not; nothing in one is worth reading
        return Auth()
    else:
        raise ProtocolError(f"unknown message type {kind}")
    reader.expect_end("message")
    return message


def _parse_awareness(payload: bytes, max_states: int) -> tuple[AwarenessState, ...]:
    reader = _Reader(payload)
    count = reader.var_uint("awareness count")
    if count > max_states:
        raise ProtocolError(f"awareness update with more than {max_states} states")
    states = []
    for _ in range(count):
        client_id = reader.var_uint("awareness client id")
        clock = reader.var_uint("awareness clock")
        if reader.next_length() > MAX_AWARENESS_STATE_BYTES:
            raise ProtocolError(
                f"awareness state larger than {MAX_AWARENESS_STATE_BYTES // 1024} KiB"
            )
        state = reader.var_string("awareness state")
        # y-protocols reads a JSON null as "this client is gone", however it is spelled
        if _parse_json(state) is None:
            state = "null"
        states.append(AwarenessState(client_id, clock, state))
    reader.expect_end("awareness update")
    return tuple(states)


def _reject_constant(name: str) -> object:
    raise ProtocolError(f"awareness state holds {name}, which is not JSON")


def _parse_json(text: str) -> object:
    """Other clients JSON.parse this text; anything they cannot parse stops here."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise ProtocolError("awareness state is not JSON") from None


def decode_state_vector(data: bytes) -> dict[int, int]:
    reader = _Reader(data)
    clocks = {}
    for _ in range(reader.var_uint("state vector length")):
        client = reader.var_uint("state vector client")
        clocks[client] = reader.var_uint("state vector clock")
    reader.expect_end("state vector")
    return clocks


def claims_plausible_size(update: bytes) -> bool:
    """yrs reserves room for as many clients as an update's first varuint claims before it
    reads any of them, so five bytes could cost half a gigabyte; each client takes 3+ bytes."""
    try:
        clients = _Reader(update).var_uint("update client count")
    except ProtocolError:
        return False
    return clients * 3 <= len(update)


def _var_bytes(data: bytes) -> bytes:
    return write_var_uint(len(data)) + data


def encode_sync_step1(state_vector: bytes) -> bytes:
    return bytes([MESSAGE_SYNC, SYNC_STEP1]) + _var_bytes(state_vector)


def encode_sync_step2(update: bytes) -> bytes:
    return bytes([MESSAGE_SYNC, SYNC_STEP2]) + _var_bytes(update)


def encode_update(update: bytes) -> bytes:
    return bytes([MESSAGE_SYNC, SYNC_UPDATE]) + _var_bytes(update)


def encode_awareness(states: list[AwarenessState]) -> bytes:
    payload = [write_var_uint(len(states))]
    for entry in states:
        payload.append(write_var_uint(entry.client_id))
        payload.append(write_var_uint(entry.clock))
        payload.append(_var_bytes(entry.state.encode("utf-8")))
    return bytes([MESSAGE_AWARENESS]) + _var_bytes(b"".join(payload))

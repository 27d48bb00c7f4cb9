"""Small factories of Yjs documents and updates, built with pycrdt."""

from __future__ import annotations

from typing import Any

from pycrdt import Doc, Map, Text

# decodes, but fails half-way through integration against crafted_target(): found by fuzzing
HALF_APPLYING_UPDATE = bytes.fromhex(
    "01030201c401010102025a5a2701016d01620008000202027c3f8000007c4000000000"
)


def crafted_target() -> Doc[Any]:
    """The document HALF_APPLYING_UPDATE was found against: text "t", map "m"."""
    doc: Doc[Any] = Doc(client_id=1)
    text = doc.get("t", type=Text)
    text += "hello"
    shared = doc.get("m", type=Map)
    shared["a"] = 1
    shared["s"] = Text("x")
    return doc


def append_text(doc: Doc[Any], value: str, *, root: str = "text") -> bytes:
    """Append to a shared text; returns the update that carries just this edit."""
    before = doc.get_state()
    text = doc.get(root, type=Text)
    text += value
    return doc.get_update(before)


def text_edits(*values: str) -> list[bytes]:
    """One update per value, each appending it to the shared text of one writer."""
    writer: Doc[Any] = Doc()
    return [append_text(writer, value) for value in values]


def loaded(*chunks: bytes) -> Doc[Any]:
    doc: Doc[Any] = Doc()
    for chunk in chunks:
        doc.apply_update(chunk)
    return doc


def text_of(doc: Doc[Any], root: str = "text") -> str:
    return str(doc.get(root, type=Text))

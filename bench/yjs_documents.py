"""What large Yjs documents cost the event loop: the work a room does on the loop thread (pycrdt
holds the GIL), per document size. Costs grow about linearly with size, so the figures up to
4 MiB tell what the plans' 16-128 MiB limits cost; building a document of many small edits
takes minutes per MiB beyond that (each edit is placed at a random position).

For each size, a document is built from many small edits (the expensive shape: many structs)
and from a few large ones, then timed:

- snapshot: encoding the live document's state, as compaction does (replaces log merging);
- load: applying a stored snapshot to a new document, as opening a room does;
- apply: one more small update to the large document, as every edit does.

    .venv/bin/python bench/yjs_documents.py [--sizes 1,2,4]   # MiB
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from pycrdt import Doc, Text

from webhost.data.yjs.document import LiveDocument

MIB = 1024 * 1024


def many_small_edits(target_bytes: int) -> Doc[Any]:
    """Typing: 20-character inserts at random places, so the document holds many structs."""
    chance = random.Random(7)
    doc: Doc[Any] = Doc()
    text = doc.get("text", type=Text)
    while len(doc.get_update()) < target_bytes:
        for _ in range(2000):
            text.insert(chance.randrange(len(text) + 1), "lorem ipsum dolor si")
    return doc


def few_large_edits(target_bytes: int) -> Doc[Any]:
    """Pastes: 256 KiB at a time."""
    doc: Doc[Any] = Doc()
    text = doc.get("text", type=Text)
    while len(doc.get_update()) < target_bytes:
        text += "x" * (256 * 1024)
    return doc


def timed(action: Callable[[], object], repeat: int = 5) -> float:
    """Median milliseconds of ``action``."""
    durations = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        durations.append((time.perf_counter() - started) * 1000)
    return statistics.median(durations)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1,2,4")
    arguments = parser.parse_args()
    print(f"{'shape':14} {'size':>8} {'snapshot':>12} {'load':>12} {'apply one':>12}")
    for shape, build in (("many small", many_small_edits), ("few large", few_large_edits)):
        for size in (int(part) * MIB for part in arguments.sizes.split(",")):
            source = build(size)
            snapshot = source.get_update()
            live = LiveDocument()
            live.apply(snapshot)
            before = source.get_state()
            source.get("text", type=Text).insert(0, "one more edit")
            edit = source.get_update(before)

            def load(snapshot: bytes = snapshot) -> None:
                LiveDocument().apply(snapshot)

            print(
                f"{shape:14} {len(snapshot) / MIB:6.1f} MiB"
                f" {timed(live.snapshot):9.1f} ms"
                f" {timed(load):9.1f} ms"
                f" {timed(lambda live=live, edit=edit: live.apply(edit), repeat=50):9.3f} ms"
            )


if __name__ == "__main__":
    main()

"""What the benchmarks' profiles share: a summary of py-spy's collapsed stacks."""

from __future__ import annotations

from pathlib import Path


def print_profile(collapsed: Path, top: int = 25) -> None:
    """The functions most often on the stack (inclusive share of samples), from py-spy's
    collapsed stacks; the file itself feeds any flame graph tool."""
    inclusive: dict[str, int] = {}
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        samples = int(count)
        total += samples
        for frame in set(stack.split(";")):
            inclusive[frame] = inclusive.get(frame, 0) + samples
    print(f"  profile {collapsed.name}: {total} samples")
    ranked = sorted(inclusive.items(), key=lambda item: -item[1])
    # the entry chain (cli, asyncio runner) is on every stack; what lies below it matters
    entry = ranked[0][1] if ranked else 0
    for frame, samples in [item for item in ranked if item[1] < entry][:top]:
        print(f"    {100 * samples / total:5.1f}%  {frame[:150]}")

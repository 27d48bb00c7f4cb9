from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from webhost.client.hlc import HybridLogicalClock, is_stamp
from webhost.data.collections.clock import stamp_text, wall_value

# clocks up to the year 38000 or so: far ahead of any real one, short of the last stamp
stamps = st.integers(0, 2**60).map(stamp_text)


def test_stamps_are_sixteen_hex_digits_of_milliseconds_and_counter() -> None:
    clock = HybridLogicalClock()
    stamp = clock.tick()
    assert is_stamp(stamp)
    assert abs((int(stamp, 16) >> 16) - (wall_value() >> 16)) < 60_000
    assert not is_stamp("018C2A4F93A20003")
    assert not is_stamp("018c2a4f93a2000")
    assert not is_stamp(7)


@given(st.lists(st.one_of(st.none(), stamps), max_size=30))
def test_every_stamp_is_later_than_everything_before_it(events: list[str | None]) -> None:
    """Ticks (None) and observed server clocks in any order: each tick beats all of them."""
    clock = HybridLogicalClock()
    seen = ""
    for event in events:
        if event is None:
            stamp = clock.tick()
            assert stamp > seen
            seen = stamp
        else:
            clock.observe(event)
            seen = max(seen, event)
    assert clock.tick() > seen


def test_a_clock_goes_on_from_where_it_was_kept() -> None:
    ahead = stamp_text(wall_value() + (10 << 16))  # a server ten milliseconds ahead
    clock = HybridLogicalClock()
    clock.observe(ahead)
    clock.observe("not a stamp")
    kept = clock.last
    assert kept == ahead
    assert HybridLogicalClock(kept).tick() > ahead

"""Purpose-bound keys and signatures over lists of strings."""

from __future__ import annotations

import os

from hypothesis import given
from hypothesis import strategies as st

from webhost.security.signing import derive_key, sign, signature_matches

MASTER = os.urandom(32)
PARTS = st.lists(st.text(max_size=20), max_size=4)


@given(parts=PARTS, other=PARTS)
def test_a_signature_matches_exactly_the_parts_it_was_made_for(
    parts: list[str], other: list[str]
) -> None:
    key = derive_key(MASTER, "tests")
    signature = sign(key, *parts)
    assert signature_matches(key, signature, *parts)
    # length prefixes keep ["ab", "c"] and ["a", "bc"] apart
    assert signature_matches(key, signature, *other) is (other == parts)


@given(parts=PARTS)
def test_keys_of_different_purposes_or_masters_do_not_sign_alike(parts: list[str]) -> None:
    signature = sign(derive_key(MASTER, "forms"), *parts)
    assert not signature_matches(derive_key(MASTER, "other purpose"), signature, *parts)
    assert not signature_matches(derive_key(os.urandom(32), "forms"), signature, *parts)
    assert derive_key(MASTER, "forms") != MASTER

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fakes.stripe import FakeStripe


@pytest.fixture
def fake_stripe() -> Iterator[FakeStripe]:
    with FakeStripe() as fake:
        yield fake

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from pydantic import SecretStr

from tests.data.yjs.planes import StartedPlane, StartPlane
from tests.support.management import MANAGEMENT_TOKEN, management_client


@pytest.fixture
def managed_plane(start_plane: StartPlane) -> StartedPlane:
    """A shared data plane that serves its management API."""
    return start_plane(management_token=SecretStr(MANAGEMENT_TOKEN))


@pytest.fixture
def manage(managed_plane: StartedPlane) -> Iterator[httpx.Client]:
    with management_client(managed_plane.served.url) as client:
        yield client

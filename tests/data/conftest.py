from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.data.yjs.planes import StartedPlane, StartPlane
from tests.support.servers import ServedApp
from webhost.data.app import create_data_app
from webhost.data.plane import DataPlane
from webhost.db.urls import PostgresURL


@pytest.fixture
def start_plane(dataplane_database: PostgresURL) -> Iterator[StartPlane]:
    """Start data planes of our own: to restart one, to tune one, or to look at its rooms."""
    started: list[StartedPlane] = []

    def start(**options: Any) -> StartedPlane:
        planes: list[DataPlane] = []

        async def build() -> Any:
            # built on the server's own loop, so that its engine and tasks belong there
            planes.append(DataPlane(dataplane_database, pool_size=2, **options))
            return create_data_app(planes[0])

        served = ServedApp(build).start()
        started.append(StartedPlane(served, planes[0]))
        return started[-1]

    yield start
    for plane in started:
        plane.stop()

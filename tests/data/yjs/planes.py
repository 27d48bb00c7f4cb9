"""Data planes a test starts for itself, on the session's data-plane database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tests.support.servers import ServedApp
from webhost.data.plane import DataPlane


@dataclass(frozen=True)
class StartedPlane:
    """A data plane served over TCP, with its rooms in reach."""

    served: ServedApp
    plane: DataPlane

    @property
    def ws_url(self) -> str:
        return self.served.ws_url

    def stop(self) -> None:
        self.served.stop()


StartPlane = Callable[..., StartedPlane]

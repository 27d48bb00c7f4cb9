"""The embedded default: a real PostgreSQL server kept in the data directory by pgserver."""

from __future__ import annotations

import logging
import subprocess
import warnings
from pathlib import Path
from typing import Any

from webhost.db.urls import PostgresURL
from webhost.errors import ConfigurationError

# pgserver logs every start-up step at INFO; our own log says what matters
logging.getLogger("pgserver").setLevel(logging.WARNING)


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.pgdata = data_dir / "postgres"
        self._server: Any = None

    def start(self) -> PostgresURL:
        """Start (or attach to) the server; returns the address of its ``postgres`` database."""
        with warnings.catch_warnings():
            # pgserver keeps its lock in the user runtime dir; platformdirs warns when it is unset
            warnings.simplefilter("ignore")
            import pgserver  # imported late: it probes the platform on import

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._server = pgserver.get_server(self.pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            raise ConfigurationError(
                f"the embedded PostgreSQL in {self.pgdata} did not start "
                f"(see {self.pgdata / 'log'})"
            ) from exc
        return PostgresURL.parse(self._server.get_uri())

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None

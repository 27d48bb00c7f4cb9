"""The embedded default: a real PostgreSQL server kept in the data directory by pgserver.

The server of a data directory runs while any webhost process uses it. Each user registers
(pid and start time) in ``postgres.users.json`` under ``postgres.lock``; the last one to leave
stops the postmaster and checks that it is gone. A user that died without leaving (kill -9) no
longer counts, so a server it left behind is reused by the next start and stopped by the next
last user.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import logging
import os
import signal
import subprocess
import time
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil
import structlog

from webhost.db.urls import PostgresURL
from webhost.errors import ConfigurationError

log = structlog.get_logger(__name__)

# pgserver logs every start-up step at INFO; our own log says what matters
logging.getLogger("pgserver").setLevel(logging.WARNING)

USERS_FILE = "postgres.users.json"
LOCK_FILE = "postgres.lock"
SETTLE_SECONDS = 30.0  # a postmaster found starting or stopping gets this long to finish
# the signals of `pg_ctl stop -m fast`, then `-m immediate`, then a kill, each with its wait
# every dedicated plane of the local provider keeps its own pool on this server: PostgreSQL's
# default of 100 connections ran out at about ten dedicated deployments
MAX_CONNECTIONS = 500
STOP_SEQUENCE = ((signal.SIGINT, 30.0), (signal.SIGQUIT, 10.0), (signal.SIGKILL, 10.0))


@dataclass(frozen=True)
class _User:
    """A process using the server; the start time tells a live user from a reused pid."""

    pid: int
    started: float
    instance: int  # several EmbeddedPostgres objects of one process count separately

    def is_alive(self) -> bool:
        try:
            process = psutil.Process(self.pid)
            return (
                abs(process.create_time() - self.started) < 0.01
                and process.status() != psutil.STATUS_ZOMBIE
            )
        except psutil.Error:
            return False


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.expanduser().resolve()
        self.pgdata = self.data_dir / "postgres"
        self._user: _User | None = None
        self._url: PostgresURL | None = None
        # after stop(): the other processes the server was left running for
        self.still_used_by: list[int] = []

    def start(self) -> PostgresURL:
        """Start the server, or attach to the one running for this data directory."""
        if self._url is not None:
            return self._url
        self.pgdata.mkdir(parents=True, exist_ok=True)
        with self._locked():
            users = self._live_users()
            if not users:
                # nobody alive uses it: a postmaster found now was left by a killed run
                self._settle_orphan()
            self._remove_stale_pid_file()
            url = self._start_postmaster(restart_allowed=not users)
            me = _User(os.getpid(), psutil.Process().create_time(), id(self))
            self._write_users([*users, me])
        self._user, self._url = me, url
        atexit.register(self.stop)  # a command that ends on an error still leaves cleanly
        return url

    def stop(self) -> None:
        """Leave the server; the last user stops it and makes sure the postmaster is gone."""
        if self._user is None:
            return
        atexit.unregister(self.stop)
        with self._locked():
            others = [user for user in self._live_users() if user != self._user]
            self._write_users(others)
            self._user, self._url = None, None
            self.still_used_by = sorted({user.pid for user in others})
            if not others:
                self._stop_postmasters()

    def _postmasters(self) -> list[psutil.Process]:
        """Running postmasters of this data directory (its path is in their command line)."""
        found = []
        for process in psutil.process_iter(["name", "cmdline", "status"]):
            if (
                process.info["name"] == "postgres"
                and str(self.pgdata) in (process.info["cmdline"] or [])
                and process.info["status"] != psutil.STATUS_ZOMBIE
            ):
                found.append(process)
        return found

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One process at a time starts, joins, leaves or stops this data directory's server."""
        with (self.data_dir / LOCK_FILE).open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _live_users(self) -> list[_User]:
        try:
            entries = json.loads((self.data_dir / USERS_FILE).read_text())
            users = [_User(**entry) for entry in entries]
        except (OSError, ValueError, TypeError):
            return []
        return [user for user in users if user.is_alive()]

    def _write_users(self, users: list[_User]) -> None:
        path = self.data_dir / USERS_FILE
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps([asdict(user) for user in users]))
        temporary.replace(path)

    def _settle_orphan(self) -> None:
        """A postmaster left behind is reused when it is ready; one that stays half started or
        half stopped, or has lost its postmaster.pid, is stopped so that a fresh one starts."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while postmasters := self._postmasters():
            pid, status = self._pid_file()
            if status == "ready" and pid in {process.pid for process in postmasters}:
                return
            if pid is None or time.monotonic() > deadline:
                log.warning("stopping an embedded PostgreSQL that is neither ready nor stopped")
                self._stop_postmasters()
                return
            time.sleep(0.2)

    def _pid_file(self) -> tuple[int | None, str | None]:
        """The postmaster's pid and status ("starting", "ready", ...) from postmaster.pid."""
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
            pid = int(lines[0])
        except (OSError, ValueError, IndexError):
            return None, None
        return pid, lines[7].strip() if len(lines) > 7 else None

    def _remove_stale_pid_file(self) -> None:
        """A postmaster.pid whose process is gone, or whose pid now belongs to another program,
        would make pgserver reuse a server that is not there and PostgreSQL refuse to start."""
        pid, _ = self._pid_file()
        if pid is not None and pid not in {process.pid for process in self._postmasters()}:
            (self.pgdata / "postmaster.pid").unlink(missing_ok=True)

    def _start_postmaster(self, *, restart_allowed: bool) -> PostgresURL:
        with warnings.catch_warnings():
            # pgserver keeps its lock in the user runtime dir; platformdirs warns when it is unset
            warnings.simplefilter("ignore")
            from pgserver.postgres_server import PostgresServer  # late: it probes the platform

        try:
            server = PostgresServer(self.pgdata, cleanup_mode=None)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            raise ConfigurationError(
                f"the embedded PostgreSQL in {self.pgdata} did not start "
                f"(see {self.pgdata / 'log'})"
            ) from exc
        # pgserver's own reference count (pids without start times, an exit hook) is what left
        # servers running after a kill; this module keeps the count instead
        atexit.unregister(server._cleanup)
        PostgresServer._instances.pop(self.pgdata, None)
        (self.pgdata / ".handle_pids.json").unlink(missing_ok=True)
        if restart_allowed:
            self._ensure_connection_room(server)
        return PostgresURL.parse(server.get_uri())

    def _ensure_connection_room(self, server: Any) -> None:
        """Raise max_connections to MAX_CONNECTIONS (once: ALTER SYSTEM keeps it), restarting
        the postmaster, which only its first user may do."""
        from pgserver._commands import POSTGRES_BIN_PATH, pg_ctl  # type: ignore[attr-defined]

        def psql(statement: str) -> str:
            return subprocess.run(  # noqa: S603 - our own statements, the bundled psql
                [str(POSTGRES_BIN_PATH / "psql"), "-XtAc", statement, server.get_uri()],
                check=True,
                capture_output=True,
                text=True,
                timeout=30,
            ).stdout.strip()

        try:
            if int(psql("SHOW max_connections")) >= MAX_CONNECTIONS:
                return
            psql(f"ALTER SYSTEM SET max_connections = {MAX_CONNECTIONS}")
            # pg_ctl restart starts it with the options of the start just made (postmaster.opts)
            pg_ctl(["-w", "-m", "fast", "restart"], pgdata=self.pgdata, user=server.system_user)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            raise ConfigurationError(
                f"the embedded PostgreSQL in {self.pgdata} could not be given room for "
                f"{MAX_CONNECTIONS} connections (see {self.pgdata / 'log'})"
            ) from exc

    def _stop_postmasters(self) -> None:
        for postmaster in self._postmasters():
            with contextlib.suppress(psutil.Error):
                self._stop(postmaster)
        survivors = self._postmasters()
        if survivors:
            raise ConfigurationError(
                f"the embedded PostgreSQL in {self.pgdata} did not stop "
                f"(pid {', '.join(str(process.pid) for process in survivors)})"
            )

    def _stop(self, postmaster: psutil.Process) -> None:
        processes = [postmaster, *postmaster.children()]
        for signum, seconds in STOP_SEQUENCE:
            targets = [postmaster] if signum != signal.SIGKILL else processes
            for process in targets:
                with contextlib.suppress(psutil.Error):
                    process.send_signal(signum)
            if _wait_gone(processes, seconds):
                return
            log.warning("embedded PostgreSQL is slow to stop", pid=postmaster.pid)


def _wait_gone(processes: list[psutil.Process], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while True:
        alive = [process for process in processes if _is_running(process)]
        if not alive:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def _is_running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False

"""Keeps every dedicated data-plane process that should run, running.

The desired state lives in the control database (``local_processes``); the supervisor
reconciles against it: starts what is missing, restarts what died (with back-off), stops what
is no longer wanted. One supervisor leads at a time (a PostgreSQL advisory lock), so two
``webhost up`` on one database never fight over ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

import asyncpg
import psutil
import structlog

from webhost.control.providers.local import repository
from webhost.control.providers.local.models import DesiredState, LocalProcess
from webhost.db import admin

if TYPE_CHECKING:
    from webhost.control.providers.local.provider import LocalProvider

log = structlog.get_logger(__name__)

LEADER_LOCK = 7_402_117  # advisory lock key held by the leading supervisor
POLL_SECONDS = 2.0
STOP_GRACE_SECONDS = 10.0
HEALTHY_AFTER_SECONDS = 30.0  # a process that ran this long resets its crash back-off
_PR_SET_PDEATHSIG = 1


@dataclass
class Child:
    deployment_id: uuid.UUID
    port: int
    process: asyncio.subprocess.Process
    log_file: IO[bytes]
    started_at: float = field(default_factory=time.monotonic)


@dataclass
class CrashHistory:
    failures: int = 0
    not_before: float = 0.0


class ProcessSupervisor:
    def __init__(self, provider: LocalProvider) -> None:
        self.provider = provider
        self.children: dict[uuid.UUID, Child] = {}
        self.crashes: dict[uuid.UUID, CrashHistory] = {}
        self._wake = asyncio.Event()
        self._stopping = False
        self._leader: asyncpg.Connection | None = None

    async def run(self) -> None:
        await self._become_leader()
        try:
            while not self._stopping:
                try:
                    await self.reconcile()
                except (OSError, asyncpg.PostgresError) as exc:
                    log.warning("supervisor could not reconcile", error=str(exc))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
                self._wake.clear()
        finally:
            await self._stop_children()
            await self._resign()

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        await self._stop_children()
        await self._resign()

    async def _become_leader(self) -> None:
        while not self._stopping:
            connection = await admin.connect(self.provider.context.control_database)
            if await connection.fetchval("SELECT pg_try_advisory_lock($1)", LEADER_LOCK):
                await connection.add_listener(repository.CHANGES_CHANNEL, self._on_change)
                self._leader = connection
                return
            await connection.close()
            await asyncio.sleep(POLL_SECONDS)

    async def _resign(self) -> None:
        if self._leader is not None:
            with contextlib.suppress(OSError, asyncpg.PostgresError):
                await self._leader.close()
            self._leader = None

    def _on_change(self, *_: object) -> None:
        self._wake.set()

    async def reconcile(self) -> None:
        async with self.provider.context.sessions() as session:
            rows = await repository.all_processes(session)
        wanted = {
            row.deployment_id: row for row in rows if row.desired_state == DesiredState.RUNNING
        }
        for deployment_id in [d for d in self.children if d not in wanted]:
            await self._stop_child(deployment_id)
        for deployment_id, row in wanted.items():
            child = self.children.get(deployment_id)
            if child is not None and child.process.returncode is None:
                continue
            if child is not None:
                await self._record_crash(child)
            history = self.crashes.setdefault(deployment_id, CrashHistory())
            if time.monotonic() >= history.not_before:
                await self._start_child(row)

    async def _record_crash(self, child: Child) -> None:
        del self.children[child.deployment_id]
        child.log_file.close()
        history = self.crashes.setdefault(child.deployment_id, CrashHistory())
        if time.monotonic() - child.started_at >= HEALTHY_AFTER_SECONDS:
            history.failures = 0
        history.failures += 1
        history.not_before = time.monotonic() + min(30.0, 0.5 * 2 ** (history.failures - 1))
        log.warning(
            "dedicated data plane exited; restarting",
            deployment=str(child.deployment_id),
            exit_code=child.process.returncode,
            retry_in=round(history.not_before - time.monotonic(), 1),
        )
        async with self.provider.context.sessions.begin() as session:
            await repository.record_exit(
                session, child.deployment_id, child.process.returncode, crashed=True
            )

    async def _start_child(self, row: LocalProcess) -> None:
        await asyncio.to_thread(_kill_stale, row)
        environment = self.provider.context.secret_box.open_json(
            row.sealed_environment, context=f"local-process:{row.deployment_id}"
        )
        settings = self.provider.context.settings
        logs = settings.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log_file = open(logs / f"dataplane-{row.deployment_id}.log", "ab")  # noqa: ASYNC230, SIM115
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "webhost",
            "dataplane",
            "--host",
            settings.host,
            "--port",
            str(row.port),
            env={
                **os.environ,
                **environment,
                "WEBHOST_LOG_LEVEL": settings.log_level,
                "WEBHOST_LOG_FORMAT": "json",
            },
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log_file,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the supervisor, which stops children in order
            preexec_fn=_die_with_parent,
        )
        self.children[row.deployment_id] = Child(row.deployment_id, row.port, process, log_file)
        log.info("started dedicated data plane", deployment=str(row.deployment_id), port=row.port)
        async with self.provider.context.sessions.begin() as session:
            await repository.record_start(session, row.deployment_id, process.pid)

    async def _stop_child(self, deployment_id: uuid.UUID) -> None:
        child = self.children.pop(deployment_id, None)
        if child is None:
            return
        if child.process.returncode is None:
            child.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(child.process.wait(), STOP_GRACE_SECONDS)
            except TimeoutError:
                child.process.kill()
                await child.process.wait()
        child.log_file.close()
        log.info("stopped dedicated data plane", deployment=str(deployment_id))
        with contextlib.suppress(OSError, asyncpg.PostgresError):
            async with self.provider.context.sessions.begin() as session:
                await repository.record_exit(
                    session, deployment_id, child.process.returncode, crashed=False
                )

    async def _stop_children(self) -> None:
        await asyncio.gather(*(self._stop_child(d) for d in list(self.children)))


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM if the supervisor dies without stopping it."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _kill_stale(row: LocalProcess) -> None:
    """A data plane left by a supervisor that died holds the port: stop it first."""
    if row.pid is None:
        return
    try:
        process = psutil.Process(row.pid)
        command = " ".join(process.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return
    if "webhost" in command and "dataplane" in command and f"--port {row.port}" in command:
        process.terminate()
        with contextlib.suppress(psutil.TimeoutExpired):
            process.wait(STOP_GRACE_SECONDS)
        if process.is_running():
            process.kill()

"""Runs the platform's components in one event loop: control plane, shared data plane, job
worker and the provider's supervisor. ``webhost up`` runs them all; other commands run some.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import structlog
import uvicorn

from webhost.config import Settings
from webhost.control.app import create_control_app
from webhost.control.billing import lifecycle as billing_lifecycle
from webhost.control.deployments import service as deployments
from webhost.data.app import create_data_app
from webhost.data.fleet.options import FleetOptions
from webhost.data.plane import DataPlane
from webhost.data.sync.options import SyncOptions
from webhost.data.yjs.room import RoomOptions
from webhost.edge.proxy import EdgeProxy
from webhost.edge.routes import EdgeRoutes
from webhost.errors import ConfigurationError
from webhost.http.server import server_config
from webhost.platform import Platform

log = structlog.get_logger(__name__)

WORKER_SHUTDOWN_SECONDS = 30.0


@dataclass(frozen=True)
class Components:
    control: bool = True
    shared_plane: bool = True
    # stable per-deployment URLs (on when the settings want the edge)
    edge: bool = True
    worker: bool = True
    supervisor: bool = True


def bind(host: str, port: int) -> socket.socket:
    # an explicit IPPROTO_TCP makes asyncio set TCP_NODELAY on accepted connections; without it
    # every keep-alive response waits ~40 ms for a delayed ACK
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigurationError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    sock.listen(2048)
    return sock


class _Server(uvicorn.Server):
    """The runtime owns SIGINT/SIGTERM and stops every component in order; uvicorn's own
    handlers would stop just one server and re-raise the signal afterwards."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class Runtime:
    def __init__(self, settings: Settings, components: Components | None = None) -> None:
        self.settings = settings
        self.components = components or Components()
        self.platform: Platform | None = None
        self._servers: list[uvicorn.Server] = []
        self._tasks: list[asyncio.Task[Any]] = []
        self._stopped = asyncio.Event()

    async def start(self) -> None:
        sockets: dict[str, socket.socket] = {}
        if self.components.control:
            sockets["control"] = bind(self.settings.host, self.settings.port)
        if self.components.shared_plane:
            sockets["data"] = bind(self.settings.host, self.settings.data_port)
        if self.components.edge and self.settings.edge:
            sockets["edge"] = bind(self.settings.host, self.settings.edge_port)
        # ports chosen by the OS (0) are known only now; URLs handed to clients must use them
        self.settings = self.settings.model_copy(
            update={
                name: sock.getsockname()[1]
                for name, sock in (
                    ("port", sockets.get("control")),
                    ("data_port", sockets.get("data")),
                    ("edge_port", sockets.get("edge")),
                )
                if sock is not None
            }
        )
        try:
            self.platform = platform = await Platform.open(self.settings)
        except BaseException:
            for sock in sockets.values():
                sock.close()
            raise
        await platform.jobs.open_async()
        if "data" in sockets:
            await platform.prepare_shared_plane()
            plane = DataPlane(
                platform.shared_database,
                max_body_bytes=self.settings.max_body_bytes,
                yjs=RoomOptions.from_settings(self.settings),
                sync=SyncOptions.from_settings(self.settings),
                fleet=FleetOptions.from_settings(self.settings),
            )
            self._serve(create_data_app(plane), sockets["data"])
        if "control" in sockets:
            self._serve(create_control_app(platform), sockets["control"])
        if "edge" in sockets:
            routes = EdgeRoutes(platform.control_database)
            self._spawn(routes.run(), "edge routes")
            self._spawn(EdgeProxy(routes).serve(sockets["edge"]), "edge")
        if self.components.supervisor:
            self._spawn(platform.providers.run(), "supervisor")
        if self.components.worker:
            self._spawn(self._run_worker(platform), "worker")
            self._spawn(self._recover_jobs(platform), "job recovery")
        await self._wait_serving()
        gc.freeze()  # start-up objects live as long as the process: out of the collector's way

    def _serve(self, app: Any, sock: socket.socket) -> None:
        server = _Server(server_config(app))
        self._servers.append(server)
        self._spawn(server.serve(sockets=[sock]), "http server")

    def _spawn(self, coroutine: Any, name: str) -> None:
        task = asyncio.create_task(coroutine, name=name)
        task.add_done_callback(self._on_task_done)
        self._tasks.append(task)

    def _on_task_done(self, task: asyncio.Task[Any]) -> None:
        if task.cancelled() or self._stopped.is_set():
            return
        if task.exception() is not None:
            log.error("component crashed", component=task.get_name(), error=str(task.exception()))
        self._stopped.set()

    async def _wait_serving(self) -> None:
        while not all(server.started for server in self._servers):
            if self._stopped.is_set():
                raise ConfigurationError("a component stopped during start-up (see the log)")
            await asyncio.sleep(0.05)

    async def _run_worker(self, platform: Platform) -> None:
        await platform.jobs.run_worker_async(
            concurrency=self.settings.worker_concurrency,
            install_signal_handlers=False,
            additional_context={"platform": platform},
            update_heartbeat_interval=self.settings.worker_heartbeat_seconds,
            stalled_worker_timeout=self.settings.stalled_job_seconds,
            shutdown_graceful_timeout=WORKER_SHUTDOWN_SECONDS,
        )

    async def _recover_jobs(self, platform: Platform) -> None:
        """Retry jobs of workers that died, and re-queue deployments whose job was lost."""
        interval = max(1.0, self.settings.stalled_job_seconds / 2)
        while True:
            manager = platform.jobs.job_manager
            for job in await manager.get_stalled_jobs(
                seconds_since_heartbeat=self.settings.stalled_job_seconds
            ):
                log.warning("retrying a job whose worker stopped", job=job.id, task=job.task_name)
                await manager.retry_job(job)
            async with platform.sessions.begin() as session:
                for deployment_id in await deployments.requeue_orphaned_provisioning(session):
                    log.warning("re-queued provisioning", deployment=str(deployment_id))
            if delivered := await platform.key_courier.sweep():
                log.warning("delivered key changes left behind", changes=delivered)
            if suspended := await billing_lifecycle.sweep(platform.sessions, platform.planes):
                log.info("suspended unpaid or ended subscriptions", subscriptions=suspended)
            await asyncio.sleep(interval)

    async def wait(self) -> None:
        await self._stopped.wait()

    def request_stop(self) -> None:
        self._stopped.set()

    async def stop(self) -> None:
        """Stop taking requests, let running jobs finish, stop processes, close databases."""
        self._stopped.set()
        if self.platform is not None:
            self.platform.stopping.set()
        for server in self._servers:
            server.should_exit = True
        for task in self._tasks:
            if task.get_name() != "http server":
                task.cancel()
        results = await asyncio.gather(*self._tasks, return_exceptions=True)
        for task, result in zip(self._tasks, results, strict=True):
            if isinstance(result, Exception) and not isinstance(result, asyncio.CancelledError):
                log.error("component failed", component=task.get_name(), error=str(result))
        if self.platform is not None:
            with contextlib.suppress(Exception):
                await self.platform.jobs.close_async()
            await self.platform.close()

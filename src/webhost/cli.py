"""The ``webhost`` command."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from webhost.config import Settings
from webhost.errors import WebHostError
from webhost.log_config import configure_logging

app = typer.Typer(
    help="WebHost: offline-first, real-time backend hosting.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
errors = Console(stderr=True)
T = TypeVar("T")

DataDirOption = Annotated[
    Path | None, typer.Option("--data-dir", help="Where the embedded database and keys live.")
]
HostOption = Annotated[str | None, typer.Option(help="Interface to listen on.")]
PortOption = Annotated[int | None, typer.Option(help="Control plane (dashboard, API) port.")]
DataPortOption = Annotated[int | None, typer.Option(help="Shared data plane port.")]
EdgePortOption = Annotated[
    int | None, typer.Option(help="Edge port: every deployment's stable URL is served here.")
]


def _settings(**overrides: Any) -> Settings:
    values = {name: value for name, value in overrides.items() if value is not None}
    try:
        settings = Settings(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'settings'}: {error['msg']}"
            for error in exc.errors()
        )
        errors.print(
            f"[red]error:[/red] invalid settings: {problems}", highlight=False, soft_wrap=True
        )
        raise typer.Exit(1) from None
    configure_logging(settings.log_level, settings.log_format)
    return settings


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop (installed with uvicorn[standard]) when available: faster sockets and timers."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _run(settings: Settings, coroutine_factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine; errors become one line on stderr (a traceback with WEBHOST_DEBUG)."""
    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            return runner.run(coroutine_factory())  # type: ignore[arg-type]
    except WebHostError as exc:
        errors.print(f"[red]error:[/red] {exc.message}", highlight=False, soft_wrap=True)
    except KeyboardInterrupt:
        errors.print("interrupted")
    except Exception as exc:
        if settings.debug:
            raise
        summary = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        errors.print(
            f"[red]error:[/red] {type(exc).__name__}: {summary} (WEBHOST_DEBUG=1 shows details)",
            highlight=False,
            soft_wrap=True,
        )
    raise typer.Exit(1)


async def _serve_until_signalled(settings: Settings, components: Any, banner: bool) -> None:
    from webhost.runtime import Runtime

    runtime = Runtime(settings, components)
    loop = asyncio.get_running_loop()
    first_signal_at: float | None = None

    def on_signal() -> None:
        nonlocal first_signal_at
        now = loop.time()
        if first_signal_at is not None:
            # `timeout` and process managers signal the process and its group at once
            if now - first_signal_at > 1.0:
                errors.print("forced stop")
                os._exit(130)
            return
        first_signal_at = now
        console.print("\nstopping... (Ctrl-C again to force)")
        runtime.request_stop()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal)
    with console.status("starting WebHost (PostgreSQL, migrations, services)..."):
        try:
            await runtime.start()
        except BaseException:
            await runtime.stop()
            raise
    try:
        if banner:
            await _print_banner(runtime)
        await runtime.wait()
    finally:
        with console.status("stopping services..."):
            await runtime.stop()
    embedded = runtime.platform.embedded if runtime.platform is not None else None
    if embedded is not None and embedded.still_used_by:
        users = ", ".join(str(pid) for pid in embedded.still_used_by)
        console.print(
            "stopped cleanly; the embedded PostgreSQL keeps running for the other webhost "
            f"processes using it (pid {users})",
            soft_wrap=True,
        )
    else:
        console.print("stopped cleanly")


async def _print_banner(runtime: Any) -> None:
    from webhost.control.accounts import service as accounts

    platform = runtime.platform
    settings = runtime.settings
    async with platform.sessions.begin() as session:
        operator = await accounts.ensure_operator(session)
        link = await accounts.issue_one_time_login(session, operator)
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_row("Dashboard", settings.control_url)
    table.add_row("API docs", f"{settings.control_url}/api/docs")
    table.add_row("Shared data plane", settings.shared_plane_url)
    if settings.edge:
        table.add_row("Edge (deployment URLs)", f"{settings.edge_url}/d/<deployment>")
    table.add_row("Database", "embedded (pgserver)" if platform.embedded else "DATABASE_URL")
    table.add_row("Data directory", str(settings.data_dir))
    console.print("[bold green]WebHost is running[/bold green]")
    console.print(table)
    console.print("Operator login (one-time link, valid 15 minutes):")
    console.print(f"  {settings.control_url}/login/once/{link.token}", soft_wrap=True)
    console.print("Press Ctrl-C to stop.")


@app.command()
def up(
    data_dir: DataDirOption = None,
    host: HostOption = None,
    port: PortOption = None,
    data_port: DataPortOption = None,
    edge_port: EdgePortOption = None,
    worker: Annotated[
        bool, typer.Option(help="Run the job worker here (or separately: `webhost worker`).")
    ] = True,
) -> None:
    """Start everything on this machine: control plane, shared data plane, worker, provider."""
    from webhost.runtime import Components

    settings = _settings(
        data_dir=data_dir, host=host, port=port, data_port=data_port, edge_port=edge_port
    )
    _run(settings, lambda: _serve_until_signalled(settings, Components(worker=worker), banner=True))


@app.command()
def worker(data_dir: DataDirOption = None) -> None:
    """Run only the job worker (provisioning and other durable jobs)."""
    from webhost.runtime import Components

    settings = _settings(data_dir=data_dir)
    components = Components(control=False, shared_plane=False, supervisor=False, edge=False)
    _run(settings, lambda: _serve_until_signalled(settings, components, banner=False))


@app.command()
def dataplane(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8100,
) -> None:
    """Serve one dedicated data plane (started by the local provider's supervisor).

    Needs WEBHOST_DATAPLANE_DATABASE_URL and WEBHOST_DATAPLANE_TENANT_ID (the supervisor sets them).
    """
    import uvicorn

    from webhost.data.app import create_data_app
    from webhost.data.fleet.options import FleetOptions
    from webhost.data.plane import DataPlane
    from webhost.data.sync.options import SyncOptions
    from webhost.data.yjs.room import RoomOptions
    from webhost.db.urls import PostgresURL
    from webhost.http.server import server_config
    from webhost.runtime import bind

    settings = _settings()
    if settings.dataplane_database_url is None or settings.dataplane_tenant_id is None:
        errors.print(
            "[red]error:[/red] webhost dataplane needs WEBHOST_DATAPLANE_DATABASE_URL and "
            "WEBHOST_DATAPLANE_TENANT_ID (the supervisor sets them)",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)
    try:
        database = PostgresURL.parse(
            settings.dataplane_database_url.get_secret_value(),
            setting="WEBHOST_DATAPLANE_DATABASE_URL",
        )
    except WebHostError as exc:
        errors.print(f"[red]error:[/red] {exc.message}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    plane = DataPlane(
        database,
        only_tenant=settings.dataplane_tenant_id,
        max_body_bytes=settings.max_body_bytes,
        yjs=RoomOptions.from_settings(settings),
        sync=SyncOptions.from_settings(settings),
        fleet=FleetOptions.from_settings(settings),
        management_token=settings.dataplane_management_token,
    )
    try:
        # bound like the runtime's sockets, so accepted connections get TCP_NODELAY
        listening = bind(host, port)
    except WebHostError as exc:
        errors.print(f"[red]error:[/red] {exc.message}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    uvicorn.Server(server_config(create_data_app(plane))).run(sockets=[listening])


@app.command()
def migrate(data_dir: DataDirOption = None) -> None:
    """Apply the control database migrations and exit."""
    from webhost.platform import Platform

    settings = _settings(data_dir=data_dir)

    async def run() -> None:
        with console.status("applying migrations..."):
            platform = await Platform.open(settings)
            await platform.prepare_shared_plane()
            await platform.close()
        console.print("migrations applied")

    _run(settings, run)


@app.command("operator-login")
def operator_login(data_dir: DataDirOption = None) -> None:
    """Print a fresh one-time operator login link."""
    from webhost.control.accounts import service as accounts
    from webhost.platform import Platform

    settings = _settings(data_dir=data_dir)

    async def run() -> None:
        platform = await Platform.open(settings)
        try:
            async with platform.sessions.begin() as session:
                operator = await accounts.ensure_operator(session)
                link = await accounts.issue_one_time_login(session, operator)
        finally:
            await platform.close()
        console.print(f"{settings.control_url}/login/once/{link.token}")

    _run(settings, run)


@app.command()
def plans(data_dir: DataDirOption = None) -> None:
    """List the plan catalog."""
    from webhost.control.plans import repository
    from webhost.platform import Platform

    settings = _settings(data_dir=data_dir)

    async def run() -> None:
        platform = await Platform.open(settings)
        try:
            async with platform.sessions() as session:
                catalog = await repository.list_plans(session, include_hidden=True)
        finally:
            await platform.close()
        table = Table("slug", "name", "price", "mode", "regions", "vehicles", "retention")
        for plan in catalog:
            table.add_row(
                plan.slug,
                plan.name,
                f"${plan.price_cents / 100:.2f}/{plan.billing_interval}",
                plan.mode.value,
                ", ".join(plan.regions),
                "unlimited" if plan.vehicle_limit is None else str(plan.vehicle_limit),
                f"{plan.retention_days} days",
            )
        console.print(table)

    _run(settings, run)


@app.command("simulate-fleet")
def simulate_fleet(
    url: Annotated[str, typer.Option(help="The data plane's API URL.")],
    key: Annotated[
        str, typer.Option(help="An API key (a device key works).", envvar="WEBHOST_KEY")
    ],
    vehicles: Annotated[int, typer.Option(min=1, max=100_000)] = 10,
    rate: Annotated[
        float, typer.Option(min=0, help="Points per second for the fleet; 0 = as fast as it goes.")
    ] = 10.0,
    points: Annotated[int, typer.Option(min=1, help="Points to send in all.")] = 1000,
    protocol: Annotated[
        str, typer.Option(help="osmand (one request a point) or batch.")
    ] = "osmand",
    batch_size: Annotated[int, typer.Option(min=1, max=10_000)] = 1000,
    senders: Annotated[int, typer.Option(min=1, max=64, help="Concurrent batch senders.")] = 4,
    seed: Annotated[int, typer.Option(help="Same seed, same tracks.")] = 1,
) -> None:
    """Drive simulated vehicles against a data plane's fleet endpoints."""
    from webhost.simulator.console import run_with_progress
    from webhost.simulator.run import Simulation

    if protocol not in {"osmand", "batch"}:
        errors.print("[red]error:[/red] --protocol is osmand or batch", highlight=False)
        raise typer.Exit(2)
    settings = _settings()
    simulation = Simulation(
        url=url,
        key=key,
        vehicles=vehicles,
        rate=rate,
        points=points,
        protocol="osmand" if protocol == "osmand" else "batch",
        batch_size=batch_size,
        senders=senders,
        seed=seed,
    )
    tally = _run(settings, lambda: run_with_progress(simulation, console))
    if tally.failed_requests:
        raise typer.Exit(1)


def main() -> None:
    with contextlib.suppress(BrokenPipeError):
        app()
    sys.stdout.flush()

"""``webhost simulate-fleet``: the simulator with a live progress display."""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from webhost.simulator.run import Simulation, Tally, simulate

REFRESH_SECONDS = 0.25


async def run_with_progress(simulation: Simulation, console: Console) -> Tally:
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:>9} pts/s"),
        TextColumn("{task.fields[errors]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    shown = 0.0

    with progress:
        task = progress.add_task(
            f"{simulation.vehicles} vehicles via {simulation.protocol}",
            total=simulation.points,
            rate="-",
            errors="",
        )

        def on_progress(tally: Tally) -> None:
            nonlocal shown
            now = time.perf_counter()
            if now - shown < REFRESH_SECONDS and tally.sent < simulation.points:
                return
            shown = now
            failures = (
                f"[red]{tally.failed_requests} failed ({tally.last_error})[/red]"
                if tally.failed_requests
                else ""
            )
            progress.update(
                task,
                completed=tally.sent,
                rate=f"{tally.sent / max(tally.elapsed, 1e-6):,.0f}",
                errors=failures,
            )

        tally = await simulate(simulation, on_progress)
        on_progress(tally)
    console.print(summary_table(simulation, tally))
    return tally


def summary_table(simulation: Simulation, tally: Tally) -> Table:
    table = Table("", "", title="fleet simulation", show_header=False)
    table.add_row("points sent", f"{tally.sent:,}")
    table.add_row("accepted", f"{tally.accepted:,}")
    if simulation.protocol == "batch":
        table.add_row("duplicates", f"{tally.duplicates:,}")
        table.add_row("rejected", f"{tally.rejected:,}")
    table.add_row(
        "failed requests", f"{tally.failed_requests:,} ({tally.rate_limited} rate-limited)"
    )
    table.add_row("points/s", f"{tally.sent / max(tally.elapsed, 1e-6):,.0f}")
    table.add_row(
        "request latency",
        f"p50 {tally.percentile(0.5):.1f} ms, p95 {tally.percentile(0.95):.1f} ms",
    )
    if tally.last_error:
        table.add_row("last error", tally.last_error)
    return table

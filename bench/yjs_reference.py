"""WebHost's Yjs server against the reference y-websocket server, side by side on one machine.

The reference is `@y/websocket-server` 0.1.1 from npm with persistence off; WebHost runs as
`webhost up` on its embedded PostgreSQL, measured on a shared (Hobby) deployment, served by the
shared data plane, and a dedicated (Starter) one, served by its own data-plane process. The
clients are stock `yjs` 13.6 + `y-websocket` 3.1 in Node.js (which offer permessage-deflate, as
browsers do). Scenarios run interleaved, the server order rotating every round, and the table
gives the median of the rounds and each WebHost figure's ratio to the reference's:

- fan-out: one writer, 100 observers of one document, 200 updates/s: propagation latency;
- many rooms: 200 documents with a writer and an observer each, 5 updates/s per document;
- cold load: a document of 10,000 updates, written, left, then opened by a new client: time
  until the client is synced and holds every update (for WebHost the room is loaded from
  PostgreSQL; the reference keeps every document in memory).

Server CPU counts the server process and, for WebHost, every PostgreSQL process; peak RSS is the
server process's. `npm ci` in bench/yjs installs the clients and the reference server.

    .venv/bin/python bench/yjs_reference.py [--rounds 4] [--seconds 30] [--only fanout,rooms,cold]
        [--profile DIR]   # py-spy flame graphs of WebHost's processes, one per scenario
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
from profiling import print_profile

HERE = Path(__file__).resolve().parent
CLIENTS = HERE / "yjs"
LOAD = CLIENTS / "load.mjs"
REFERENCE = CLIENTS / "node_modules" / "@y" / "websocket-server" / "src" / "server.js"
REFERENCE_NAME = "reference"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def install_clients() -> None:
    lock = CLIENTS / "package-lock.json"
    modules = CLIENTS / "node_modules"
    if not modules.is_dir() or lock.stat().st_mtime > modules.stat().st_mtime:
        subprocess.run(
            ["npm", "ci", "--prefix", str(CLIENTS), "--no-audit", "--no-fund", "--loglevel=error"],
            check=True,
        )
        modules.touch()


@dataclass
class Target:
    """A server under test: where clients connect and which processes do its work."""

    name: str
    url: str
    key: str | None
    server_pid: int
    postgres_pid: int | None = None

    def processes(self) -> list[psutil.Process]:
        found = [psutil.Process(self.server_pid)]
        if self.postgres_pid is not None:
            postmaster = psutil.Process(self.postgres_pid)
            found += [postmaster, *postmaster.children(recursive=True)]
        return found


class Usage:
    """CPU seconds of a target's processes and the peak RSS of its server, over a scenario."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.peak_rss = 0
        self._before: dict[int, float] = {}
        self._steady_before: dict[int, float] | None = None
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> Usage:
        self._before = self._cpu()
        self._sampler.start()
        return self

    def steady_from(self, epoch_ms: float) -> None:
        """Also count the CPU spent from this moment on (clients connected, writing begins)."""

        def mark() -> None:
            self._steady_before = self._cpu()

        threading.Timer(max(0.0, epoch_ms / 1000 - time.time()), mark).start()

    def measurement(self) -> Measurement:
        return Measurement(
            cpu_seconds=self.cpu_seconds,
            steady_cpu_seconds=self.steady_seconds,
            postgres_seconds=self.postgres_seconds,
            peak_rss_mb=self.peak_rss / 2**20,
        )

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._sampler.join()
        after = self._cpu()
        used = {pid: seconds - self._before.get(pid, 0.0) for pid, seconds in after.items()}
        self.cpu_seconds = sum(used.values())
        self.postgres_seconds = self.cpu_seconds - used.get(self.target.server_pid, 0.0)
        steady_before = self._steady_before
        self.steady_seconds = (
            sum(seconds - steady_before.get(pid, 0.0) for pid, seconds in after.items())
            if steady_before is not None
            else float("nan")
        )

    def _cpu(self) -> dict[int, float]:
        seconds = {}
        for process in self.target.processes():
            with contextlib.suppress(psutil.NoSuchProcess):
                times = process.cpu_times()
                seconds[process.pid] = times.user + times.system
        return seconds

    def _sample(self) -> None:
        server = psutil.Process(self.target.server_pid)
        while not self._stop.wait(0.05):
            self.peak_rss = max(self.peak_rss, server.memory_info().rss)


@dataclass
class Measurement:
    latencies: list[float] = field(default_factory=list)
    cpu_seconds: float = 0.0  # the server's and, for WebHost, PostgreSQL's
    postgres_seconds: float = 0.0
    steady_cpu_seconds: float = float("nan")  # from the first update sent to the end
    peak_rss_mb: float = 0.0
    expected: int = 0
    received: int = 0
    load_ms: float = 0.0

    def quantile(self, q: int) -> float:
        if len(self.latencies) < 2:
            return float("nan")
        return statistics.quantiles(self.latencies, n=100)[q - 1]

    @property
    def p50(self) -> float:
        return self.quantile(50)

    @property
    def p95(self) -> float:
        return self.quantile(95)

    @property
    def delivered(self) -> float:
        return 100 * self.received / self.expected if self.expected else float("nan")


async def run_clients(configs: list[dict[str, object]]) -> list[dict[str, object]]:
    """Start one Node process per config, wait until all are ready, then collect their results."""
    processes = [
        await asyncio.create_subprocess_exec(
            "node",
            str(LOAD),
            json.dumps(config),
            cwd=CLIENTS,
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 30,
        )
        for config in configs
    ]

    async def lines(process: asyncio.subprocess.Process) -> dict[str, object]:
        assert process.stdout is not None
        last: dict[str, object] = {}
        async for line in process.stdout:
            last = json.loads(line)
            if "error" in last:
                raise RuntimeError(f"client failed: {last['error']}")
        await process.wait()
        return last

    try:
        return await asyncio.gather(*(lines(process) for process in processes))
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()


async def fanout(
    target: Target, profiler: Profiler, seconds: float, observers: int, rate: int
) -> Measurement:
    document = f"fanout-{uuid.uuid4().hex[:8]}"
    start_at = (time.time() + 8) * 1000  # every client is connected by then
    base = {"url": target.url, "key": target.key, "document": document, "startAt": start_at}
    base |= {"seconds": seconds, "grace": 10}
    groups = 4
    configs: list[dict[str, object]] = [base | {"mode": "writer", "rate": rate}]
    configs += [base | {"mode": "observers", "count": observers // groups}] * groups
    with Usage(target) as usage:
        usage.steady_from(start_at)
        profiler.schedule(start_at, seconds)
        results = await run_clients(configs)
    measurement = usage.measurement()
    sent = int(results[0]["sent"])  # type: ignore[call-overload]
    for result in results[1:]:
        measurement.latencies += result["latencies"]  # type: ignore[arg-type]
    measurement.expected = sent * (observers // groups) * groups
    measurement.received = len(measurement.latencies)
    return measurement


async def many_rooms(
    target: Target, profiler: Profiler, seconds: float, rooms: int, rate: int
) -> Measurement:
    prefix = f"rooms-{uuid.uuid4().hex[:8]}"
    start_at = (time.time() + 12) * 1000
    groups = 2
    per_group = rooms // groups
    configs: list[dict[str, object]] = [
        {"mode": "rooms", "url": target.url, "key": target.key, "prefix": prefix}
        | {"first": group * per_group, "count": per_group, "rate": rate, "startAt": start_at}
        | {"seconds": seconds, "grace": 3}
        for group in range(groups)
    ]
    with Usage(target) as usage:
        usage.steady_from(start_at)
        profiler.schedule(start_at + 1000, seconds - 2)  # writers start over the first second
        results = await run_clients(configs)
    measurement = usage.measurement()
    for result in results:
        measurement.latencies += result["latencies"]  # type: ignore[arg-type]
        measurement.expected += int(result["sent"])  # type: ignore[call-overload]
    measurement.received = len(measurement.latencies)
    return measurement


async def cold_load(target: Target, profiler: Profiler, updates: int, loads: int) -> Measurement:
    document = f"cold-{uuid.uuid4().hex[:8]}"
    base = {"url": target.url, "key": target.key, "document": document, "updates": updates}
    with Usage(target) as usage:
        profiler.schedule(time.time() * 1000)
        await run_clients([base | {"mode": "fill"}])
        times = []
        for _ in range(loads):
            await asyncio.sleep(4)  # every client has left: WebHost folds and releases the room
            (result,) = await run_clients([base | {"mode": "load"}])
            times.append(float(result["elapsed"]))  # type: ignore[arg-type]
    measurement = usage.measurement()
    measurement.load_ms = statistics.median(times)
    measurement.expected = measurement.received = updates
    return measurement


class Profiler:
    """py-spy's collapsed stacks of a WebHost server process while clients write (from the
    scenario's start for its duration), or to the end of the scenario."""

    def __init__(self, target: Target, directory: Path | None, scenario: str) -> None:
        self.output: Path | None = None
        self._command: list[str] = []
        self._recorder: subprocess.Popen[bytes] | None = None
        self._timer: threading.Timer | None = None
        search = f"{Path(sys.executable).parent}:{os.environ['PATH']}"
        py_spy = shutil.which("py-spy", path=search)
        if directory is None or target.name == REFERENCE_NAME or py_spy is None:
            return
        directory.mkdir(parents=True, exist_ok=True)
        self.output = directory / f"{scenario}-{target.name}-{int(time.time())}.txt"
        self._command = [
            *(py_spy, "record", "--pid", str(target.server_pid), "--rate", "200"),
            *("--output", str(self.output), "--format", "raw", "--nonblocking"),
        ]

    def schedule(self, epoch_ms: float, seconds: float | None = None) -> None:
        """Record from ``epoch_ms`` (clients connected) for ``seconds`` (or to the end)."""
        if self.output is None:
            return
        if seconds is not None:
            self._command += ["--duration", str(int(seconds))]
        delay = max(0.0, epoch_ms / 1000 - time.time())
        self._timer = threading.Timer(delay, self._start)
        self._timer.start()

    def _start(self) -> None:
        self._recorder = subprocess.Popen(
            self._command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def __enter__(self) -> Profiler:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._recorder is not None and self.output is not None:
            if self._recorder.poll() is None:
                self._recorder.send_signal(signal.SIGINT)
            self._recorder.wait(60)
            print_profile(self.output)


async def provision(control: str, plan: str) -> tuple[str, str]:
    """Sign up on a plan; returns the deployment's sync URL and a fresh API key."""
    async with httpx.AsyncClient(base_url=control, timeout=120) as client:
        signup = await client.post(
            "/api/signup",
            json={
                "email": f"bench-{random.randrange(10**9)}@example.com",
                "password": "benchmark password",
                "name": "Bench",
                "organization": f"Bench {plan}",
                "plan": plan,
            },
        )
        signup.raise_for_status()
        headers = {"Authorization": f"Bearer {signup.json()['token']}"}
        deployment_id = signup.json()["deployment"]["id"]
        while True:
            deployment = (
                await client.get(f"/api/deployments/{deployment_id}", headers=headers)
            ).json()
            if deployment["status"] == "active":
                break
            if deployment["status"] == "failed":
                raise SystemExit(f"provisioning {plan} failed: {deployment}")
            await asyncio.sleep(0.3)
        key = await client.post("/api/keys", json={"name": "bench"}, headers=headers)
        key.raise_for_status()
        return deployment["sync_url"], key.json()["key"]


def listening_pid(port: int) -> int:
    for connection in psutil.net_connections("tcp"):
        if connection.laddr and connection.laddr.port == port and connection.status == "LISTEN":
            assert connection.pid is not None
            return connection.pid
    raise RuntimeError(f"nothing listens on port {port}")


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{process.args} exited with {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"port {port} did not open")


def report(results: dict[tuple[str, str], list[Measurement]], names: list[str]) -> None:
    def median(scenario: str, name: str, value: str) -> float:
        rounds = results.get((scenario, name), [])
        figures = [getattr(measurement, value) for measurement in rounds]
        return statistics.median(figures) if figures else float("nan")

    def row(label: str, scenario: str, value: str, unit: str, digits: int = 1) -> None:
        reference = median(scenario, REFERENCE_NAME, value)
        cells = []
        for name in names:
            figure = median(scenario, name, value)
            cell = f"{figure:,.{digits}f} {unit}"
            if name != REFERENCE_NAME and reference == reference and reference > 0:
                cell += f" ({figure / reference:.2f}x)"
            cells.append(cell)
        print(f"| {label} | " + " | ".join(cells) + " |")

    print("| scenario | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    if any(key[0] == "fanout" for key in results):
        row("fan-out p50", "fanout", "p50", "ms")
        row("fan-out p95", "fanout", "p95", "ms")
        row("fan-out server CPU", "fanout", "cpu_seconds", "s")
        row("fan-out of which PostgreSQL", "fanout", "postgres_seconds", "s")
        row("fan-out CPU while writing", "fanout", "steady_cpu_seconds", "s")
        row("fan-out peak RSS", "fanout", "peak_rss_mb", "MB", 0)
        row("fan-out delivered", "fanout", "delivered", "%", 2)
    if any(key[0] == "rooms" for key in results):
        row("many rooms p50", "rooms", "p50", "ms", 2)
        row("many rooms p95", "rooms", "p95", "ms", 2)
        row("many rooms server CPU", "rooms", "cpu_seconds", "s")
        row("many rooms of which PostgreSQL", "rooms", "postgres_seconds", "s")
        row("many rooms CPU while writing", "rooms", "steady_cpu_seconds", "s")
        row("many rooms peak RSS", "rooms", "peak_rss_mb", "MB", 0)
        row("many rooms delivered", "rooms", "delivered", "%", 2)
    if any(key[0] == "cold" for key in results):
        row("cold load, time to synced", "cold", "load_ms", "ms")
        row("cold load peak RSS", "cold", "peak_rss_mb", "MB", 0)
        row("cold load server CPU", "cold", "cpu_seconds", "s")


async def benchmark(arguments: argparse.Namespace, targets: list[Target]) -> None:
    results: dict[tuple[str, str], list[Measurement]] = {}
    scenarios = arguments.only.split(",")
    for number in range(arguments.rounds):
        # rotate the order each round, so no server always runs first or after a busy one
        shift = number % len(targets)
        for scenario in scenarios:
            for target in targets[shift:] + targets[:shift]:
                with Profiler(target, arguments.profile, scenario) as profiler:
                    if scenario == "fanout":
                        measured = await fanout(target, profiler, arguments.seconds, 100, 200)
                    elif scenario == "rooms":
                        measured = await many_rooms(target, profiler, arguments.seconds, 200, 5)
                    else:
                        measured = await cold_load(target, profiler, 10_000, 3)
                results.setdefault((scenario, target.name), []).append(measured)
                print(
                    f"round {number + 1} {scenario:6} {target.name:9} "
                    f"p50 {measured.quantile(50):8.2f} ms  p95 {measured.quantile(95):8.2f} ms  "
                    f"load {measured.load_ms:7.1f} ms  cpu {measured.cpu_seconds:6.2f} s "
                    f"(postgres {measured.postgres_seconds:5.2f} s, "
                    f"while writing {measured.steady_cpu_seconds:5.2f} s)  "
                    f"rss {measured.peak_rss_mb:6.0f} MB  "
                    f"delivered {measured.received}/{measured.expected}",
                    flush=True,
                )
                await asyncio.sleep(3)
    print()
    report(results, [target.name for target in targets])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--only", default="fanout,rooms,cold")
    parser.add_argument("--targets", default="reference,shared,dedicated")
    parser.add_argument("--profile", type=Path, default=None)
    arguments = parser.parse_args()
    install_clients()

    data_dir = Path(tempfile.mkdtemp(prefix="whyjs-", dir="/tmp"))
    port, data_port, reference_port = free_port(), free_port(), free_port()
    log = (data_dir / "up.log").open("w")
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    webhost = subprocess.Popen(
        [
            *(sys.executable, "-m", "webhost", "up", "--data-dir", str(data_dir / "data")),
            *("--port", str(port), "--data-port", str(data_port)),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=environment | {"WEBHOST_LOG_LEVEL": "warning"},
        start_new_session=True,
    )
    reference = subprocess.Popen(
        ["node", str(REFERENCE)],
        env=environment | {"HOST": "127.0.0.1", "PORT": str(reference_port)},
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_port(reference_port, reference)
        while "Press Ctrl-C" not in (data_dir / "up.log").read_text():
            if webhost.poll() is not None:
                raise SystemExit((data_dir / "up.log").read_text())
            time.sleep(0.2)
        control = f"http://127.0.0.1:{port}"
        postmaster = int((data_dir / "data" / "postgres" / "postmaster.pid").read_text().split()[0])
        shared_url, shared_key = asyncio.run(provision(control, "hobby"))
        dedicated_url, dedicated_key = asyncio.run(provision(control, "starter"))
        dedicated_port = int(dedicated_url.rsplit(":", 1)[1])
        available = {
            REFERENCE_NAME: Target(
                REFERENCE_NAME, f"ws://127.0.0.1:{reference_port}", None, reference.pid
            ),
            "shared": Target("shared", shared_url + "/yjs", shared_key, webhost.pid, postmaster),
            "dedicated": Target(
                "dedicated",
                dedicated_url + "/yjs",
                dedicated_key,
                listening_pid(dedicated_port),
                postmaster,
            ),
        }
        targets = [available[name] for name in arguments.targets.split(",")]
        node = subprocess.check_output(["node", "-v"], text=True).strip()
        print(
            f"python {sys.version.split()[0]}, node {node}, {os.cpu_count()} cpus; "
            f"rounds {arguments.rounds}, {arguments.seconds:.0f} s per run",
            flush=True,
        )
        asyncio.run(benchmark(arguments, targets))
    finally:
        reference.terminate()
        webhost.send_signal(signal.SIGINT)
        try:
            webhost.wait(60)
        except subprocess.TimeoutExpired:
            webhost.kill()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()

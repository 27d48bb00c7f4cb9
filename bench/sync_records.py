"""Record sync under load: 100 live clients of one collection, 10 of them pushing.

Starts `webhost up` on its embedded PostgreSQL in a temporary directory, signs a Hobby customer
up (the shared data plane), creates a collection, then runs bench/sync/load.mjs: observers
subscribe over the live socket (docs/sync-protocol.md); pushers are apps writing `--rate`
changes a second in all (half inserts, half updates) into an outbox that one push in flight
at a time carries to the server, as the SDK does (`--batch` caps a push; 0: 1000). Each record
carries the time the app wrote it and the time its push was sent; every observer measures how
long after each the change reached it: "visible" from the app's write (outbox wait, push and
fan-out), "push to visible" from the push. Prints throughput, push-to-visible
latency, and the data plane's memory and CPU every 10 seconds. Targets (issue): >= 5,000
changes/s sustained, p95 <= 50 ms, memory flat over 5 minutes.

    .venv/bin/python bench/sync_records.py [--observers 100] [--pushers 10] [--rate 5000]
        [--seconds 300] [--batch 0]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil

# run as a script, so this directory is on the path
from running import Running, sign_up, webhost_up

LOAD = Path(__file__).parent / "sync" / "load.mjs"


def sample_memory(running: Running, stop: threading.Event, samples: list[str]) -> None:
    plane = psutil.Process(running.process.pid)
    started = time.monotonic()
    while not stop.wait(10):
        postgres = running.postgres()
        rss = plane.memory_info().rss >> 20
        samples.append(
            f"  t={time.monotonic() - started:5.0f}s  webhost rss {rss:5d} MiB"
            f"  cpu {sum(plane.cpu_times()[:2]):7.1f} s   postgres cpu "
            f"{sum(sum(p.cpu_times()[:2]) for p in postgres):7.1f} s"
        )
        print(samples[-1], flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--observers", type=int, default=100)
    parser.add_argument("--pushers", type=int, default=10)
    parser.add_argument("--rate", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--batch", type=int, default=0)
    arguments = parser.parse_args()
    if not (LOAD.parent / "node_modules" / "ws").is_dir():
        subprocess.run(["npm", "ci", "--prefix", str(LOAD.parent), "--no-audit"], check=True)

    with webhost_up() as running:
        customer = sign_up(running.control_url)
        headers = {"Authorization": f"Bearer {customer.api_key}"}
        httpx.put(
            f"{customer.api_url}/v1/collections/tasks",
            json={"schema": "@id, projectId"},
            headers=headers,
        ).raise_for_status()
        print(
            f"shared data plane {customer.api_url}; python {sys.version.split()[0]}; "
            f"{os.cpu_count()} cpus; {arguments.observers} observers, {arguments.pushers} "
            f"pushers, {arguments.rate} changes/s in pushes of at most {arguments.batch or 1000}, "
            f"{arguments.seconds:.0f} s",
            flush=True,
        )
        stop = threading.Event()
        samples: list[str] = []
        sampler = threading.Thread(target=sample_memory, args=(running, stop, samples))
        sampler.start()
        try:
            load = subprocess.run(
                [
                    "node",
                    str(LOAD),
                    customer.sync_url,
                    customer.api_key,
                    str(arguments.observers),
                    str(arguments.pushers),
                    str(arguments.rate),
                    str(arguments.seconds),
                    str(arguments.batch),
                ],
                check=True,
                capture_output=True,
                text=True,
            )
        finally:
            stop.set()
            sampler.join()
        for line in load.stdout.splitlines():
            figures = json.loads(line)
            if figures.get("summary"):
                print("summary:")
                for name, value in figures.items():
                    if name != "summary":
                        print(f"  {name:22} {value}")
            else:
                print(
                    f"  t={figures['t']:4d}s  acked {figures['acked_per_s']:6d}/s  delivered "
                    f"{figures['delivered_per_s']:7d}/s  visible p50 {figures['p50_ms']:6.1f} ms"
                    f"  p95 {figures['p95_ms']:6.1f} ms  p99 {figures['p99_ms']:6.1f} ms"
                )


if __name__ == "__main__":
    main()

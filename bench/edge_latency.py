"""What the local edge adds to a request: the same request straight to the plane and through
the edge's stable URL, interleaved on keep-alive connections.

Starts `webhost up` on its embedded PostgreSQL in a temporary directory, provisions a Hobby
tenant (served by the shared data plane) and times `GET /v1/collections` both ways.

    .venv/bin/python bench/edge_latency.py [--requests 3000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import httpx
from rest_records import percentiles
from running import sign_up, webhost_up


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=3000)
    arguments = parser.parse_args()
    with webhost_up() as running:
        customer = sign_up(running.control_url)
        headers = {"Authorization": f"Bearer {customer.api_key}"}
        direct: list[float] = []
        edge: list[float] = []
        with (
            httpx.Client(base_url=running.data_url, headers=headers) as plane,
            httpx.Client(base_url=customer.api_url, headers=headers) as stable,
        ):
            for client in (plane, stable):  # connections open before the clock starts
                client.get("/v1/collections").raise_for_status()
            for number in range(arguments.requests):
                for client, samples in ((plane, direct), (stable, edge))[:: 1 - 2 * (number % 2)]:
                    started = time.perf_counter()
                    client.get("/v1/collections").raise_for_status()
                    samples.append(time.perf_counter() - started)
        print(
            f"{arguments.requests} requests each way; python {sys.version.split()[0]}; "
            f"{os.cpu_count()} cpus; stable URL {customer.api_url}"
        )
        print(f"straight to the plane   {percentiles(direct)}")
        print(f"through the edge        {percentiles(edge)}")
        added = statistics.median(edge) - statistics.median(direct)
        print(f"the edge adds at p50    {added * 1000:6.3f} ms")


if __name__ == "__main__":
    main()

"""REST latency and throughput of a shared (Hobby) tenant, end to end over HTTP.

Starts `webhost up` on its embedded PostgreSQL in a temporary directory, signs up, creates a key
and a collection, then measures record writes, reads by id and filtered lists. Prints p50/p95/p99
latencies and requests per second. The product target for the shared plan is API responses
under 50 ms at p95 (seed 004).

    .venv/bin/python bench/rest_records.py [--records 2000] [--concurrency 16] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time

import httpx

# run as a script, so this directory is on the path
from running import sign_up, webhost_up


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    quantiles = statistics.quantiles(ordered, n=100)
    return (
        f"p50 {quantiles[49] * 1000:6.2f} ms  p95 {quantiles[94] * 1000:6.2f} ms  "
        f"p99 {quantiles[98] * 1000:6.2f} ms  (n={len(ordered)})"
    )


async def timed(
    samples: list[float], request: asyncio.Future[httpx.Response] | object
) -> httpx.Response:
    started = time.perf_counter()
    response: httpx.Response = await request  # type: ignore[misc]
    samples.append(time.perf_counter() - started)
    response.raise_for_status()
    return response


async def run(api_url: str, key: str, records: int, concurrency: int, seconds: float) -> None:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(
        base_url=api_url, headers=headers, limits=limits, timeout=60
    ) as client:
        (
            await client.put(
                "/v1/collections/positions", json={"schema": "++id, vehicleId, recordedAt"}
            )
        ).raise_for_status()

        writes: list[float] = []
        for number in range(records):
            await timed(
                writes,
                client.post(
                    "/v1/collections/positions/records",
                    json={
                        "vehicleId": f"TRK-{number % 50:03d}",
                        "recordedAt": number,
                        "lat": 52.52 + random.random() / 100,
                        "lng": 13.40 + random.random() / 100,
                    },
                ),
            )
        print(f"create one record (sequential)      {percentiles(writes)}")

        reads: list[float] = []
        for _ in range(1000):
            await timed(
                reads,
                client.get(f"/v1/collections/positions/records/{random.randrange(1, records)}"),
            )
        print(f"read one record by id (sequential)  {percentiles(reads)}")

        lists: list[float] = []
        for _ in range(500):
            vehicle = f"TRK-{random.randrange(50):03d}"
            await timed(
                lists,
                client.get(
                    "/v1/collections/positions/records",
                    params={
                        "vehicleId": f"eq.{vehicle}",
                        "recordedAt": f"gt.{records // 2}",
                        "order": "recordedAt.desc",
                        "limit": "20",
                    },
                ),
            )
        print(f"filtered list, 20 rows (sequential) {percentiles(lists)}")

        concurrent: list[float] = []
        deadline = time.perf_counter() + seconds

        async def worker(number: int) -> None:
            while time.perf_counter() < deadline:
                if random.random() < 0.5:
                    await timed(
                        concurrent,
                        client.post(
                            "/v1/collections/positions/records",
                            json={"vehicleId": f"TRK-{number:03d}", "recordedAt": 0},
                        ),
                    )
                else:
                    await timed(
                        concurrent,
                        client.get(
                            "/v1/collections/positions/records",
                            params={"vehicleId": f"eq.TRK-{number:03d}", "limit": "20"},
                        ),
                    )

        started = time.perf_counter()
        await asyncio.gather(*(worker(n) for n in range(concurrency)))
        elapsed = time.perf_counter() - started
        print(f"mixed 50/50, {concurrency} concurrent     {percentiles(concurrent)}")
        print(f"mixed 50/50 throughput              {len(concurrent) / elapsed:8.1f} requests/s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    arguments = parser.parse_args()

    with webhost_up() as running:
        customer = sign_up(running.control_url)
        print(
            f"shared data plane {customer.api_url}; python {sys.version.split()[0]}; "
            f"{os.cpu_count()} cpus"
        )
        asyncio.run(
            run(
                customer.api_url,
                customer.api_key,
                arguments.records,
                arguments.concurrency,
                arguments.seconds,
            )
        )


if __name__ == "__main__":
    main()

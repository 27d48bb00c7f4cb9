"""Does login traffic slow the shared data plane down? Another tenant's REST latency, end to end.

Starts `webhost up` on its embedded PostgreSQL in a temporary directory, provisions a Hobby
tenant, then times filtered record lists on the shared data plane: alone, while clients loop
wrong logins on the control plane (each from its own address and email, so every attempt runs
argon2), and while they loop against one account from one address (throttled: refused cheaply).
Both planes run in one process and one event loop, as `webhost up` runs them.

    .venv/bin/python bench/login_contention.py [--attackers 4] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import sys
import time
from collections import Counter

import httpx
from rest_records import percentiles, timed
from running import sign_up, webhost_up


async def measure(
    api_url: str, key: str, control: str, attackers: int, seconds: float, mode: str
) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    statuses: Counter[int] = Counter()
    numbers = itertools.count()
    deadline = time.perf_counter() + seconds

    async def attacker(client: httpx.AsyncClient) -> None:
        while time.perf_counter() < deadline:
            number = next(numbers)
            spread = mode == "spread"
            response = await client.post(
                "/api/login",
                json={
                    "email": f"victim-{number if spread else 0}@example.com",
                    "password": f"guess {number}",
                },
                headers={"X-Forwarded-For": f"2001:db8::{number if spread else 1:x}"},
            )
            statuses[response.status_code] += 1

    samples: list[float] = []
    async with (
        httpx.AsyncClient(base_url=api_url, headers=headers, timeout=60) as data,
        httpx.AsyncClient(base_url=control, timeout=60) as logins,
    ):
        crowd = [asyncio.create_task(attacker(logins)) for _ in range(attackers if mode else 0)]
        while time.perf_counter() < deadline:
            await timed(
                samples,
                data.get(
                    "/v1/collections/positions/records",
                    params={"vehicleId": "eq.TRK-001", "limit": "20"},
                ),
            )
        await asyncio.gather(*crowd)
    label = {"": "alone", "spread": "wrong logins, each new", "one": "wrong logins, throttled"}
    logins_seen = ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items()))
    print(f"REST list, {label[mode]:<24} {percentiles(samples)}  logins {logins_seen or '-'}")


async def prepare(api_url: str, key: str) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=60) as client:
        schema = {"schema": "++id, vehicleId, recordedAt"}
        (await client.put("/v1/collections/positions", json=schema)).raise_for_status()
        for number in range(200):
            record = {"vehicleId": f"TRK-{number % 10:03d}", "recordedAt": number}
            (await client.post("/v1/collections/positions/records", json=record)).raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--attackers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    arguments = parser.parse_args()

    with webhost_up() as running:
        customer = sign_up(running.control_url)
        asyncio.run(prepare(customer.api_url, customer.api_key))
        print(
            f"{arguments.attackers} login clients; python {sys.version.split()[0]}; "
            f"{os.cpu_count()} cpus"
        )
        for mode in ("", "spread", "one"):
            asyncio.run(
                measure(
                    customer.api_url,
                    customer.api_key,
                    running.control_url,
                    arguments.attackers,
                    arguments.seconds,
                    mode,
                )
            )


if __name__ == "__main__":
    main()

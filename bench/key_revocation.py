"""How soon is a revoked key refused? From the revoke request to the data plane's first 401.

Starts `webhost up` on its embedded PostgreSQL in a temporary directory, provisions a Hobby
(shared plane) and a Starter (dedicated plane) deployment, then for each round creates a key,
checks that the plane takes it, revokes it and sends requests with it until one is refused.
Key changes reach the planes through the outbox; the revoke request returns after delivery,
so "accepted after the response" must stay 0.

    .venv/bin/python bench/key_revocation.py [--rounds 50]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import httpx
from rest_records import percentiles
from running import webhost_up


def sign_up(control_url: str, plan: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=control_url, timeout=60)
    signup = client.post(
        "/api/signup",
        json={
            "email": f"revocation-{plan}-{time.time_ns()}@example.com",
            "password": "benchmark password",
            "name": "Bench",
            "organization": "Bench",
            "plan": plan,
        },
    )
    signup.raise_for_status()
    client.headers["Authorization"] = f"Bearer {signup.json()['token']}"
    deployment_id = signup.json()["deployment"]["id"]
    while (deployment := client.get(f"/api/deployments/{deployment_id}").json())["status"] != (
        "active"
    ):
        time.sleep(0.2)
    return client, deployment["api_url"]


def measure(control: httpx.Client, api_url: str, rounds: int, plan: str) -> None:
    revoke_seconds: list[float] = []
    until_refused_seconds: list[float] = []
    accepted_after_response = 0
    with httpx.Client(base_url=api_url, timeout=60) as plane:
        for number in range(rounds):
            created = control.post("/api/keys", json={"name": f"round {number}"})
            created.raise_for_status()
            headers = {"Authorization": f"Bearer {created.json()['key']}"}
            assert plane.get("/v1/collections", headers=headers).status_code == 200
            started = time.perf_counter()
            control.delete(f"/api/keys/{created.json()['id']}").raise_for_status()
            answered = time.perf_counter()
            while plane.get("/v1/collections", headers=headers).status_code != 401:
                accepted_after_response += 1
            refused = time.perf_counter()
            revoke_seconds.append(answered - started)
            until_refused_seconds.append(refused - started)
    print(f"{plan:<8} revoke request         {percentiles(revoke_seconds)}")
    print(f"{plan:<8} revoke to first 401    {percentiles(until_refused_seconds)}")
    print(f"{plan:<8} requests accepted after the revoke response: {accepted_after_response}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=50)
    arguments = parser.parse_args()
    print(f"{arguments.rounds} rounds; python {sys.version.split()[0]}; {os.cpu_count()} cpus")
    with webhost_up() as running:
        for plan in ("hobby", "starter"):
            control, api_url = sign_up(running.control_url, plan)
            try:
                measure(control, api_url, arguments.rounds, plan)
            finally:
                control.close()


if __name__ == "__main__":
    main()

"""What the benchmarks share: `webhost up` in a temporary directory, and a customer on it."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Running:
    process: subprocess.Popen[bytes]
    control_url: str
    data_dir: Path
    # the shared data plane's own address (deployments' URLs are on the edge)
    data_url: str = ""

    def postgres(self) -> list[psutil.Process]:
        """The embedded PostgreSQL's processes (they live under the data directory)."""
        found = []
        for process in psutil.process_iter(["name", "cmdline"]):
            try:
                if process.info["name"] == "postgres" or "postgres" in " ".join(
                    process.info["cmdline"] or []
                ):
                    cmdline = " ".join(process.cmdline())
                    parent = process.parent()
                    if str(self.data_dir) in cmdline or (
                        parent is not None and str(self.data_dir) in " ".join(parent.cmdline())
                    ):
                        found.append(process)
            except psutil.Error:
                continue
        return found


@contextmanager
def webhost_up(**settings: str) -> Iterator[Running]:
    """`webhost up` on its embedded PostgreSQL; stopped with Ctrl-C (SIGINT) at the end."""
    data_dir = Path(tempfile.mkdtemp(prefix="whbench-", dir="/tmp"))
    port, data_port = free_port(), free_port()
    log_path = data_dir / "up.log"
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environment |= {"WEBHOST_LOG_LEVEL": "warning"}
    environment |= {f"WEBHOST_{name.upper()}": value for name, value in settings.items()}
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "webhost",
                "up",
                "--data-dir",
                str(data_dir / "data"),
                "--port",
                str(port),
                "--data-port",
                str(data_port),
                "--edge-port",
                str(free_port()),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=environment,
        )
        try:
            while "Press Ctrl-C" not in log_path.read_text():
                if server.poll() is not None:
                    raise SystemExit(log_path.read_text())
                time.sleep(0.2)
            yield Running(
                server,
                f"http://127.0.0.1:{port}",
                data_dir / "data",
                data_url=f"http://127.0.0.1:{data_port}",
            )
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(60)


@dataclass(frozen=True)
class Customer:
    api_url: str
    sync_url: str
    api_key: str


def sign_up(control_url: str, plan: str = "hobby") -> Customer:
    """A customer with an active deployment and an API key."""
    with httpx.Client(base_url=control_url, timeout=60) as client:
        signup = client.post(
            "/api/signup",
            json={
                "email": f"bench-{random.randrange(10**9)}@example.com",
                "password": "benchmark password",
                "name": "Bench",
                "organization": "Bench",
                "plan": plan,
            },
        )
        signup.raise_for_status()
        headers = {"Authorization": f"Bearer {signup.json()['token']}"}
        deployment_id = signup.json()["deployment"]["id"]
        while True:
            deployment = client.get(f"/api/deployments/{deployment_id}", headers=headers).json()
            if deployment["status"] == "active":
                break
            time.sleep(0.2)
        key = client.post("/api/keys", json={"name": "bench"}, headers=headers)
        key.raise_for_status()
        return Customer(deployment["api_url"], deployment["sync_url"], key.json()["key"])

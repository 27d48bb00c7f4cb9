"""`webhost up` as a user runs it: embedded PostgreSQL, everything kept across restarts."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

from tests.support.clients import api_client
from tests.support.factories import PASSWORD, create_key, sign_up
from tests.support.inspect import dataplane_pids, processes_using
from tests.support.node import YjsNodeClient
from tests.support.platform import UpProcess, wait_for_deployment
from tests.support.polling import wait_until
from tests.support.servers import fixed_port_range, free_port


@contextmanager
def webhost_up(
    data_dir: Path, port: int, data_port: int, first_dedicated: int, edge_port: int
) -> Iterator[str]:
    """Run `webhost up` until the block ends, then stop it with Ctrl-C (SIGINT)."""
    up = UpProcess(data_dir, port, data_port, first_dedicated, edge_port=edge_port)
    try:
        yield up.start()
    finally:
        code = up.interrupt() if up.process is not None else None
    assert code == 0, up.text
    assert "stopped cleanly" in up.text


@pytest.mark.slow
def test_up_serves_everything_and_a_restart_keeps_it_all() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="whup-", dir="/tmp")) / "data"
    port, data_port, edge_port = free_port(), free_port(), free_port()
    first_dedicated = fixed_port_range(10)  # kept across the restart, as the edge's port
    control = f"http://127.0.0.1:{port}"
    with webhost_up(data_dir, port, data_port, first_dedicated, edge_port) as banner:
        assert f"Dashboard            {control}" in banner or control in banner
        link = re.search(r"/login/once/(whs_once_\w+)", banner)
        assert link is not None
        assert (data_dir / "postgres" / "PG_VERSION").exists()
        shared = sign_up(control, plan="hobby")
        dedicated = sign_up(control, plan="starter")
        urls = {}
        keys = {}
        for name, customer in (("shared", shared), ("dedicated", dedicated)):
            with customer.client:
                deployment = wait_for_deployment(customer.client, customer.deployment["id"])
                urls[name] = deployment["api_url"]
                keys[name] = create_key(customer)["key"]
            with api_client(urls[name], keys[name]) as data:
                data.put("/v1/collections/trips", json={"schema": "++id, vehicle"})
                data.post("/v1/collections/trips/records", json={"vehicle": "TRK-001"})
            sync_url = "ws" + urls[name].removeprefix("http")
            with (
                YjsNodeClient(sync_url, "route-plan", keys[name]) as writer,
                YjsNodeClient(sync_url, "route-plan", keys[name]) as witness,
            ):
                writer.wait_synced()
                writer.call("insert", value=f"depot -> {name} customer")
                writer.call("set", key="driver", value="Grace")
                # the server stores an update before it relays it: seen by the witness = kept
                wait_until(
                    lambda w=witness: w.snapshot()["map"] == {"driver": "Grace"},
                    timeout=60,
                    message="update relayed",
                )
        # both URLs are on the edge; the dedicated plane listens in the dedicated range
        assert all(urlparse(url).port == edge_port for url in urls.values())
        [dedicated_port] = [
            port
            for port in dataplane_pids()
            if port in range(first_dedicated, first_dedicated + 10)
        ]

    assert dedicated_port not in dataplane_pids()
    with webhost_up(data_dir, port, data_port, first_dedicated, edge_port):
        login = httpx.post(
            f"{control}/api/login", json={"email": shared.email, "password": PASSWORD}
        )
        assert login.status_code == 200
        for name in ("shared", "dedicated"):
            with api_client(urls[name], keys[name]) as data:
                records = wait_until(
                    lambda data=data: _records(data), timeout=60, message=f"{name} data plane back"
                )
                assert [record["vehicle"] for record in records] == ["TRK-001"]
            sync_url = "ws" + urls[name].removeprefix("http")
            with YjsNodeClient(sync_url, "route-plan", keys[name]) as reader:
                reader.wait_synced()
                state = reader.snapshot()
                assert state["text"] == f"depot -> {name} customer"
                assert state["map"] == {"driver": "Grace"}
    assert processes_using(data_dir / "postgres") == []


def _records(data: httpx.Client) -> list[dict[str, object]] | None:
    try:
        response = data.get("/v1/collections/trips/records")
    except httpx.HTTPError:
        return None
    return response.json() if response.status_code == 200 else None


def test_cli_errors_are_one_clear_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "webhost", "plans"],
        env=os.environ | {"DATABASE_URL": "mysql://nope"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines == ["error: DATABASE_URL must start with postgresql://"]
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        (
            {},
            "error: webhost dataplane needs WEBHOST_DATAPLANE_DATABASE_URL (the supervisor "
            "sets it), or --embedded to keep its own database in WEBHOST_DATA_DIR",
        ),
        (
            {"WEBHOST_DATAPLANE_DATABASE_URL": "postgresql://plane@localhost/wh_t"},
            "error: webhost dataplane needs WEBHOST_DATAPLANE_TENANT_ID (the supervisor sets "
            "it), or WEBHOST_DATAPLANE_MANAGEMENT_TOKEN to serve every tenant it is given",
        ),
        (
            {
                "WEBHOST_DATAPLANE_DATABASE_URL": "postgresql://plane@localhost/wh_t",
                "WEBHOST_DATAPLANE_TENANT_ID": "not-a-uuid",
            },
            "error: invalid settings: dataplane_tenant_id: Input should be a valid UUID",
        ),
        (
            {
                "WEBHOST_DATAPLANE_DATABASE_URL": "mysql://plane@localhost/wh_t",
                "WEBHOST_DATAPLANE_TENANT_ID": "6b0f8f2e-4c1d-4a53-9a0e-2f1f3c2d9e10",
            },
            "error: WEBHOST_DATAPLANE_DATABASE_URL must start with postgresql://",
        ),
    ],
)
def test_dataplane_settings_errors_are_one_clear_line(
    environment: dict[str, str], message: str
) -> None:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("WEBHOST_DATAPLANE_")}
    result = subprocess.run(
        [sys.executable, "-m", "webhost", "dataplane", "--port", str(free_port())],
        env=inherited | environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(message)
    assert "Traceback" not in result.stdout + result.stderr


def test_an_embedded_plane_without_a_management_token_refuses_to_start(tmp_path: Path) -> None:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("WEBHOST_DATAPLANE_")}
    result = subprocess.run(
        [sys.executable, "-m", "webhost", "dataplane", "--embedded", "--port", str(free_port())],
        env=inherited | {"WEBHOST_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: webhost dataplane --embedded needs WEBHOST_DATAPLANE_MANAGEMENT_TOKEN: the "
        "control plane provisions an embedded plane through its management API"
    ]
    assert not (tmp_path / "postgres").exists(), "it refused before starting PostgreSQL"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"WEBHOST_DATAPLANE_TLS_CERTIFICATE_FILE": "origin.pem"},
            "error: WEBHOST_DATAPLANE_TLS_CERTIFICATE_FILE is set but "
            "WEBHOST_DATAPLANE_TLS_KEY_FILE is not: HTTPS needs both",
        ),
        (
            {
                "WEBHOST_DATAPLANE_TLS_CERTIFICATE_FILE": "origin.pem",
                "WEBHOST_DATAPLANE_TLS_KEY_FILE": "missing.key",
            },
            "error: WEBHOST_DATAPLANE_TLS_KEY_FILE names {dir}/missing.key, which this process "
            "cannot read",
        ),
    ],
)
def test_a_plane_with_half_a_tls_setting_refuses_to_start_in_one_line(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    (tmp_path / "origin.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("WEBHOST_DATAPLANE_")}
    settings = {name: str(tmp_path / file) for name, file in files.items()}
    result = subprocess.run(
        [sys.executable, "-m", "webhost", "dataplane", "--embedded", "--port", str(free_port())],
        env=inherited
        | settings
        | {"WEBHOST_DATA_DIR": str(tmp_path), "WEBHOST_DATAPLANE_MANAGEMENT_TOKEN": "t" * 32},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [message.format(dir=tmp_path)]
    assert not (tmp_path / "postgres").exists(), "it refused before starting PostgreSQL"

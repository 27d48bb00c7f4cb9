"""What Fly.io would run on a deployment's primary machine, for tests: once the fake shows the
machine started, the image's entrypoint (``webhost dataplane --embedded``, as the Dockerfile
says) with the machine's environment and the app's secrets, its volume a directory of its own,
on the port ``WEBHOST_FLY_PLANE_URL`` names (a fake has no ``<app>.fly.dev``)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from tests.support.fakes.flyio import FakeFly

REPOSITORY = Path(__file__).resolve().parents[2]


class FlyRuntime:
    """Serves the primary machine of whichever app first starts one; one plane per runtime."""

    def __init__(self, fake: FakeFly, port: int) -> None:
        self.fake = fake
        # short: the embedded PostgreSQL's Unix socket lives under the volume
        self.volumes = Path(tempfile.mkdtemp(prefix="fly-", dir="/tmp"))
        self.port = port
        self.plane_url = f"http://127.0.0.1:{port}"
        self.launched: dict[str, str] = {}  # app -> machine id it runs
        self.process: subprocess.Popen[bytes] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def start(self) -> FlyRuntime:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self._kill()
        shutil.rmtree(self.volumes, ignore_errors=True)

    def stop_plane(self) -> None:
        """The machine's plane process ends (as if the machine died); nothing starts it again."""
        self._kill()

    def _kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # the embedded PostgreSQL stops with it
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def _watch(self) -> None:
        while not self._stop.wait(0.1):
            with self.fake.lock:
                found = [
                    (app.name, machine.id, dict(machine.config.get("env") or {}), dict(app.secrets))
                    for app in self.fake.apps.values()
                    for machine in app.live_machines()
                    if (machine.config.get("metadata") or {}).get("webhost_role") == "primary"
                    and machine.state(self.fake.start_delay) == "started"
                ]
            for app, machine_id, env, secrets in found:
                if self.launched.get(app) != machine_id and not self.launched:
                    self.launched[app] = machine_id
                    self._launch(machine_id, env | secrets)

    def _launch(self, machine_id: str, environment: dict[str, str]) -> None:
        volume = self.volumes / machine_id  # what the machine mounts on /data
        volume.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "webhost", "dataplane", "--embedded", "--port", str(self.port)],
            env=os.environ
            | environment
            | {
                "WEBHOST_DATA_DIR": str(volume),
                "WEBHOST_LOG_LEVEL": "error",
                "PYTHONPATH": os.pathsep.join([str(REPOSITORY / "src"), str(REPOSITORY)]),
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

"""Real JavaScript clients (stock yjs + y-websocket in Node) as separate processes.

Each client is ``tests/node/yjs-client.mjs``, driven by JSON lines: one command per line on its
stdin, one answer per command and one line per provider event on its stdout.
"""

from __future__ import annotations

import itertools
import json
import queue
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.support.polling import wait_until

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
YJS_CLIENT = NODE_DIR / "yjs-client.mjs"


def node_available() -> bool:
    return shutil.which("node") is not None and (NODE_DIR / "node_modules" / "yjs").is_dir()


class YjsNodeClient:
    """One Node process holding a Y.Doc (text "text", map "map") synced by WebsocketProvider."""

    def __init__(self, sync_url: str, document: str, api_key: str | None) -> None:
        # closed in close(), together with the process it collects from
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115
        self._process = subprocess.Popen(
            ["node", str(YJS_CLIENT), sync_url, document, api_key or ""],
            cwd=NODE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            bufsize=1,
        )
        self._ids = itertools.count(1)
        self._answers: queue.Queue[dict[str, Any]] = queue.Queue()
        self._events: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            message = json.loads(line)
            if "id" in message:
                self._answers.put(message)
            else:
                with self._lock:
                    self._events.append(message)

    def call(self, cmd: str, **args: Any) -> dict[str, Any]:
        """Run one command; the answer carries a snapshot of the client's document."""
        return self.answer(self.order(cmd, **args))

    def order(self, cmd: str, **args: Any) -> int:
        """Send a command without waiting for its answer."""
        assert self._process.stdin is not None
        command_id = next(self._ids)
        self._process.stdin.write(json.dumps({"id": command_id, "cmd": cmd, **args}) + "\n")
        self._process.stdin.flush()
        return command_id

    def answer(self, command_id: int) -> dict[str, Any]:
        try:
            answer = self._answers.get(timeout=20)
        except queue.Empty:
            raise AssertionError(f"node client did not answer: {self.stderr()}") from None
        assert answer["id"] == command_id
        assert answer["ok"], answer.get("error")
        return answer

    def kill(self) -> None:
        """Die without a goodbye, as a crashed app or a lost network would."""
        self._process.kill()
        self._process.wait()

    def snapshot(self) -> dict[str, Any]:
        return self.call("snapshot")

    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._events)

    def wait_synced(self) -> None:
        wait_until(lambda: self.snapshot()["synced"], message="client synced")

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def close(self) -> None:
        if self._process.poll() is None:
            try:
                self.call("exit")
                self._process.wait(timeout=10)
            except (AssertionError, OSError, subprocess.TimeoutExpired):
                self._process.kill()
                self._process.wait()
        self._reader.join(timeout=10)
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                stream.close()
        self._stderr.close()

    def __enter__(self) -> YjsNodeClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

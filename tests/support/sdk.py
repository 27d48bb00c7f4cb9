"""Programs that use the JavaScript SDK (packages/webhost-client), run with Node."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

SDK = Path(__file__).resolve().parents[2] / "packages" / "webhost-client"

needs_sdk = pytest.mark.skipif(
    shutil.which("node") is None or not (SDK / "node_modules" / "dexie").is_dir(),
    reason="needs Node.js and the SDK's packages (npm ci in packages/webhost-client)",
)


def run_sdk_program(source: str) -> subprocess.CompletedProcess[str]:
    """Run an ES module as an app would; Node has no IndexedDB of its own, so the program
    gets an in-memory one. It runs from inside the package, where '@webhost.systems/client'
    and the SDK's own packages resolve."""
    with tempfile.NamedTemporaryFile("w", suffix=".mjs", dir=SDK, delete=False) as script:
        script.write("import 'fake-indexeddb/auto'\n" + source)
    try:
        return subprocess.run(
            ["node", script.name], cwd=SDK, capture_output=True, text=True, timeout=120
        )
    finally:
        Path(script.name).unlink()

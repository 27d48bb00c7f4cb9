"""The data-plane image's entrypoint and settings are ones ``webhost dataplane`` accepts."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def instruction(name: str) -> str:
    """The text of the Dockerfile's (last) ``name`` instruction, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    found = re.findall(rf"^{name}\s+(.+)$", text, re.MULTILINE)
    assert found, f"the Dockerfile has no {name}"
    return str(found[-1]).strip()


def test_the_entrypoint_runs_an_embedded_plane_with_options_the_command_has() -> None:
    entrypoint = json.loads(instruction("ENTRYPOINT"))
    assert entrypoint[:2] == ["webhost", "dataplane"]
    assert "--embedded" in entrypoint
    assert entrypoint[entrypoint.index("--port") + 1] == instruction("EXPOSE")
    help_text = subprocess.run(
        [sys.executable, "-m", "webhost", "dataplane", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ | {"COLUMNS": "200"},
        check=True,
    ).stdout
    for option in (argument for argument in entrypoint[2:] if argument.startswith("--")):
        assert re.search(rf"{re.escape(option)}\b", help_text), f"{option} is not an option"


def test_the_image_keeps_its_data_on_the_volume_and_checks_health() -> None:
    assert "WEBHOST_DATA_DIR=/data" in instruction("ENV")
    assert instruction("VOLUME") == "/data"
    assert instruction("FROM") == "python:3.11-slim"
    assert instruction("USER") != "root"
    health = instruction("HEALTHCHECK")
    assert f"127.0.0.1:{instruction('EXPOSE')}/health" in health

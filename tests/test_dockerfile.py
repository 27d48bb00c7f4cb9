"""The data-plane image's command, entrypoint and settings are ones ``webhost dataplane``
accepts, and a Hetzner host's command for it is too."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from webhost.control.providers.hetzner.hosts import plane_command

ROOT = Path(__file__).resolve().parents[1]
IMAGE_UID = "10001"


def instruction(name: str) -> str:
    """The text of the Dockerfile's (last) ``name`` instruction, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    found = re.findall(rf"^{name}\s+(.+)$", text, re.MULTILINE)
    assert found, f"the Dockerfile has no {name}"
    return str(found[-1]).strip()


def dataplane_help() -> str:
    return subprocess.run(
        [sys.executable, "-m", "webhost", "dataplane", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ | {"COLUMNS": "200"},
        check=True,
    ).stdout


def test_the_command_and_a_hosts_command_run_an_embedded_plane_with_real_options() -> None:
    command = json.loads(instruction("CMD"))
    help_text = dataplane_help()
    for arguments in (command, plane_command()):
        assert arguments[:2] == ["dataplane", "--embedded"], arguments
        for option in (argument for argument in arguments if argument.startswith("--")):
            assert re.search(rf"{re.escape(option)}\b", help_text), f"{option} is not an option"
    assert command[command.index("--port") + 1] == instruction("EXPOSE")


def test_the_entrypoint_is_the_script_that_hands_the_volume_over() -> None:
    assert json.loads(instruction("ENTRYPOINT")) == ["webhost-entrypoint"]
    assert (
        "COPY deploy/entrypoint.sh /usr/local/bin/webhost-entrypoint"
        in (ROOT / "Dockerfile").read_text()
    )
    assert os.access(ROOT / "deploy" / "entrypoint.sh", os.X_OK)
    # the image's user is the one the entrypoint runs the plane as
    assert f"--uid {IMAGE_UID}" in instruction("RUN")
    assert " webhost" in instruction("RUN")
    assert not re.search(r"^USER\s", (ROOT / "Dockerfile").read_text(), re.MULTILINE)


def test_the_image_keeps_its_data_on_the_volume_and_checks_health() -> None:
    assert "WEBHOST_DATA_DIR=/data" in instruction("ENV")
    assert instruction("VOLUME") == "/data"
    assert instruction("FROM") == "python:3.11-slim"
    health = instruction("HEALTHCHECK")
    assert f"127.0.0.1:{instruction('EXPOSE')}/health" in health

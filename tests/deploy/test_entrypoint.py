"""The image's entrypoint, run for real: started as root on a root-owned volume, it hands the
data directory to the image's user and runs ``webhost`` as that user with the arguments it was
given; a volume already handed over is left as it is; started as another user, it runs
``webhost`` as that user, touching nothing."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ENTRYPOINT = Path(__file__).resolve().parents[2] / "deploy" / "entrypoint.sh"
# a user every Debian system has, standing in for the image's ``webhost``
IMAGE_USER = "nobody"

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="the entrypoint's hand-over needs root"),
    pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv (util-linux)"),
]


def stand_in_webhost(directory: Path) -> Path:
    """A ``webhost`` on PATH that says who runs it, with what, and writes to the data dir."""
    directory.mkdir(mode=0o755)
    script = directory / "webhost"
    script.write_text(
        '#!/bin/sh\necho "uid=$(id -u) gid=$(id -g) args=$*"\n'
        'touch "$WEBHOST_DATA_DIR/written-by-plane"\n'
    )
    script.chmod(0o755)
    return directory


def run(place: Path, data_dir: Path, *arguments: str, as_user: str | None = None) -> str:
    bin_dir = place / "bin"
    if not bin_dir.exists():
        stand_in_webhost(bin_dir)
    environment = {
        "PATH": f"{bin_dir}:/usr/sbin:/usr/bin:/sbin:/bin",
        "WEBHOST_DATA_DIR": str(data_dir),
        "WEBHOST_RUN_AS": IMAGE_USER,
    }
    command = ["sh", str(ENTRYPOINT), *arguments]
    if as_user is not None:
        found = pwd.getpwnam(as_user)
        command = [
            "setpriv",
            f"--reuid={found.pw_uid}",
            f"--regid={found.pw_gid}",
            "--clear-groups",
            *command,
        ]
    done = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def place() -> Iterator[Path]:
    """A directory the image's user can reach (pytest's own are root's alone)."""
    place = Path(tempfile.mkdtemp(prefix="entrypoint-", dir="/tmp"))
    place.chmod(0o755)
    yield place
    shutil.rmtree(place, ignore_errors=True)


@pytest.fixture
def volume(place: Path) -> Path:
    """A freshly mounted volume: root's, with root's files from an earlier life on it."""
    data_dir = place / "data"
    (data_dir / "pgdata").mkdir(parents=True)
    (data_dir / "pgdata" / "PG_VERSION").write_text("16\n")
    return data_dir


def test_as_root_the_volume_is_handed_over_and_the_plane_runs_as_the_image_user(
    place: Path, volume: Path
) -> None:
    user = pwd.getpwnam(IMAGE_USER)
    said = run(place, volume, "dataplane", "--embedded", "--port", "8080")
    assert said == f"uid={user.pw_uid} gid={user.pw_gid} args=dataplane --embedded --port 8080"
    for path in (volume, volume / "pgdata", volume / "pgdata" / "PG_VERSION"):
        assert path.stat().st_uid == user.pw_uid, path
    assert (volume / "written-by-plane").stat().st_uid == user.pw_uid


def test_a_volume_already_handed_over_is_not_walked_again(place: Path, volume: Path) -> None:
    run(place, volume, "dataplane")
    # a file root left inside afterwards stays root's: only an unowned top triggers a chown
    (volume / "left-by-root").write_text("")
    run(place, volume, "dataplane")
    assert (volume / "left-by-root").stat().st_uid == 0


def test_a_missing_data_directory_is_made_for_the_image_user(place: Path) -> None:
    data_dir = place / "absent" / "data"
    run(place, data_dir, "dataplane")
    assert data_dir.stat().st_uid == pwd.getpwnam(IMAGE_USER).pw_uid


def test_as_another_user_the_plane_runs_as_that_user_and_nothing_is_chowned(
    place: Path, volume: Path
) -> None:
    volume.chmod(0o777)
    user = pwd.getpwnam(IMAGE_USER)
    said = run(place, volume, "dataplane", "--help", as_user=IMAGE_USER)
    assert said.startswith(f"uid={user.pw_uid} ")
    assert (volume / "pgdata").stat().st_uid == 0

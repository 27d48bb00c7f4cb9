"""The cloud-init user data of a shared host: Docker, the volume, the shared data plane.

The data plane runs from its container image as a systemd service, with its data directory
(and so its embedded PostgreSQL) on the volume. Its environment, secrets included, goes into a
file only root can read, handed to Docker with ``--env-file``: never onto a command line, which
every user of the machine can read in ``ps``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from webhost.control.providers.hetzner import yaml_text
from webhost.control.providers.hetzner.validation import shown
from webhost.errors import ProvisioningError

DATA_DIR = "/var/lib/webhost"
ENVIRONMENT_FILE = "/etc/webhost/dataplane.env"
TLS_DIR = "/etc/webhost/tls"
TLS_CERTIFICATE = f"{TLS_DIR}/origin.pem"
TLS_KEY = f"{TLS_DIR}/origin.key"
# the image's user (Dockerfile): the plane in the container reads the key as this uid
IMAGE_USER = "webhost"
IMAGE_UID = 10001
SERVICE = "webhost-dataplane.service"
CONTAINER = "webhost-dataplane"

# [registry[:port]/]path[:tag][@sha256:digest], in the characters Docker allows there
_IMAGE = re.compile(
    r"(?:[A-Za-z0-9.-]+(?::[0-9]{1,5})?/)?"
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?"
)
_ARGUMENT = re.compile(r"[A-Za-z0-9_.,:/=+@-]+")  # nothing systemd or a shell would expand
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PATH = re.compile(r"(?:/[A-Za-z0-9_.-]+)+")


def _check_path(what: str, path: str) -> None:
    if not _PATH.fullmatch(path) or any(part in (".", "..") for part in path.split("/")):
        raise ProvisioningError(f"{what} {shown(path)} is not an absolute path")


def _check_port(port: int) -> None:
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65_535:
        raise ProvisioningError(f"port {shown(port)} is not a port number (1-65535)")


def _environment_file(environment: Mapping[str, str]) -> str:
    lines = []
    for name, value in environment.items():
        if not isinstance(name, str) or not _VARIABLE.fullmatch(name):
            raise ProvisioningError(f"{shown(name)} is not an environment variable name")
        # the value is a secret: the message names the variable only
        if not isinstance(value, str) or any(char in value for char in "\n\r\x00"):
            raise ProvisioningError(f"the value of {name} must be one line of text")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ProvisioningError(f"the value of {name} is not valid Unicode text") from None
        lines.append(f"{name}={value}\n")
    return "".join(lines)


@dataclass(frozen=True)
class HostTls:
    """The host's origin certificate and key (PEM): the plane serves TLS with them."""

    certificate_pem: str
    key_pem: str


def _service_unit(
    image: str, mount_point: str, ports: Mapping[int, int], command: Sequence[str], *, tls: bool
) -> str:
    run = [
        "/usr/bin/docker run --rm --name",
        CONTAINER,
        "--env-file",
        ENVIRONMENT_FILE,
        "--volume",
        f"{mount_point}:{mount_point}",
        *([f"--volume {TLS_DIR}:{TLS_DIR}:ro"] if tls else []),
        *(f"--publish {host}:{container}" for host, container in ports.items()),
        image,
        *command,
    ]
    return (
        "[Unit]\n"
        "Description=WebHost shared data plane\n"
        "Requires=docker.service\n"
        "After=docker.service network-online.target\n"
        "Wants=network-online.target\n"
        f"RequiresMountsFor={mount_point}\n"
        "\n"
        "[Service]\n"
        f"ExecStartPre=-/usr/bin/docker rm --force {CONTAINER}\n"
        f"ExecStart={' '.join(run)}\n"
        f"ExecStop=/usr/bin/docker stop {CONTAINER}\n"
        "Restart=always\n"
        "RestartSec=5\n"
        "\n"
        "[Install]\n"
        "WantedBy=multi-user.target\n"
    )


def shared_host_user_data(
    *,
    image: str,
    environment: Mapping[str, str],
    volume_device: str,
    ports: Mapping[int, int],
    mount_point: str = DATA_DIR,
    command: Sequence[str] = (),
    tls: HostTls | None = None,
) -> str:
    """``#cloud-config`` that installs Docker, mounts ``volume_device`` (formatted by Hetzner)
    at ``mount_point`` and runs ``image`` with ``command`` as a service, its data directory on
    the volume, publishing ``ports`` (host port: container port); with ``tls``, the plane
    serves HTTPS with that certificate, its key readable by the image's user alone."""
    if not isinstance(image, str) or not _IMAGE.fullmatch(image):
        raise ProvisioningError(f"{shown(image)} is not a container image reference")
    _check_path("the volume device", volume_device)
    _check_path("the mount point", mount_point)
    for host, container in ports.items():
        _check_port(host)
        _check_port(container)
    for argument in command:
        if not isinstance(argument, str) or not _ARGUMENT.fullmatch(argument):
            raise ProvisioningError(
                f"the data plane argument {shown(argument)} has characters a service command "
                "line cannot carry as they are (spaces, quotes, '$', '%', ...)"
            )
    variables = {"WEBHOST_DATA_DIR": mount_point, **environment}
    tls_files: list[yaml_text.Value] = []
    if tls is not None:
        for pem, what in ((tls.certificate_pem, "certificate"), (tls.key_pem, "key")):
            if not pem.isascii() or "-----BEGIN " not in pem:
                raise ProvisioningError(f"the host's TLS {what} is not PEM text")
        variables |= {
            "WEBHOST_DATAPLANE_TLS_CERTIFICATE_FILE": TLS_CERTIFICATE,
            "WEBHOST_DATAPLANE_TLS_KEY_FILE": TLS_KEY,
        }
        owner = f"{IMAGE_USER}:{IMAGE_USER}"
        # deferred: written once the users below exist, so the key can be the image user's
        tls_files = [
            {
                "path": TLS_CERTIFICATE,
                "owner": owner,
                "permissions": "0644",
                "content": tls.certificate_pem,
                "defer": True,
            },
            {
                "path": TLS_KEY,
                "owner": owner,
                "permissions": "0600",
                "content": tls.key_pem,
                "defer": True,
            },
        ]
    document: dict[str, yaml_text.Value] = {
        "package_update": True,
        "packages": ["docker.io"],
        "mounts": [[volume_device, mount_point, "ext4", "defaults,nofail,discard", "0", "2"]],
        **(
            {
                "users": [
                    "default",
                    {
                        "name": IMAGE_USER,
                        "uid": IMAGE_UID,
                        "system": True,
                        "shell": "/usr/sbin/nologin",
                        "lock_passwd": True,
                    },
                ]
            }
            if tls is not None
            else {}
        ),
        "write_files": [
            {
                "path": ENVIRONMENT_FILE,
                "owner": "root:root",
                "permissions": "0600",
                "content": _environment_file(variables),
            },
            {
                "path": f"/etc/systemd/system/{SERVICE}",
                "owner": "root:root",
                "permissions": "0644",
                "content": _service_unit(image, mount_point, ports, command, tls=tls is not None),
            },
            *tls_files,
        ],
        "runcmd": [
            ["mkdir", "-p", mount_point],
            ["mount", "--all"],
            ["systemctl", "daemon-reload"],
            ["systemctl", "enable", "--now", SERVICE],
        ],
    }
    return "#cloud-config\n" + yaml_text.dump(document)

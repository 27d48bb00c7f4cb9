"""What Fly.io accepts as names, checked before a request is sent, so a bad one is refused with
a message about the name rather than a round trip and an API error."""

from __future__ import annotations

import re

from webhost.errors import ProvisioningError

# an app name is the first label of <name>.fly.dev; machine names follow the same rule
_DNS_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_VOLUME_NAME = re.compile(r"[a-z0-9_]{1,30}")
_REGION = re.compile(r"[a-z]{3}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,254}")
# Fly.io sets these in every machine itself
_RESERVED_PREFIX = "FLY_"


def _shown(value: str) -> str:
    return repr(value if len(value) <= 80 else value[:77] + "...")


def check_app_name(name: str) -> str:
    if not _DNS_LABEL.fullmatch(name):
        raise ProvisioningError(
            f"{_shown(name)} is not a Fly app name: use 1-63 lowercase letters, digits and "
            "dashes, starting and ending with a letter or digit"
        )
    return name


def check_machine_name(name: str) -> str:
    if not _DNS_LABEL.fullmatch(name):
        raise ProvisioningError(
            f"{_shown(name)} is not a Fly machine name: use 1-63 lowercase letters, digits and "
            "dashes, starting and ending with a letter or digit"
        )
    return name


def check_volume_name(name: str) -> str:
    if not _VOLUME_NAME.fullmatch(name):
        raise ProvisioningError(
            f"{_shown(name)} is not a Fly volume name: use 1-30 lowercase letters, digits and "
            "underscores"
        )
    return name


def check_region(region: str) -> str:
    if not _REGION.fullmatch(region):
        raise ProvisioningError(
            f"{_shown(region)} is not a Fly region code: regions are three lowercase letters "
            "(ams, iad, syd ...)"
        )
    return region


def check_volume_size(size_gb: int) -> int:
    if isinstance(size_gb, bool) or not isinstance(size_gb, int) or size_gb < 1:
        raise ProvisioningError(
            f"a Fly volume size is a whole number of GB from 1, not {size_gb!r}"
        )
    return size_gb


def check_variable_name(name: str, *, what: str) -> str:
    """Secret and environment variable names: shell-style, and not in Fly.io's own namespace."""
    if not _ENV_NAME.fullmatch(name):
        raise ProvisioningError(
            f"{_shown(name)} is not a valid {what} name: use letters, digits and underscores, "
            "not starting with a digit"
        )
    if name.upper().startswith(_RESERVED_PREFIX):
        raise ProvisioningError(f"{_shown(name)} is not allowed: Fly.io reserves FLY_* {what}s")
    return name


def check_resource_id(value: str, *, what: str) -> str:
    """Ids Fly.io handed out (machines, volumes): printable, so they are safe in a message."""
    if not value or len(value) > 64 or not value.isascii() or not value.isprintable():
        raise ProvisioningError(f"{_shown(value)} is not a Fly {what} id")
    return value

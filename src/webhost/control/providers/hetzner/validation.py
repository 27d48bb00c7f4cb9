"""Checks run before any call, so what Hetzner Cloud would refuse fails here, clearly."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from webhost.errors import ProvisioningError

MAX_USER_DATA_BYTES = 32 * 1024  # Hetzner's limit on cloud-init user data
MIN_VOLUME_GB = 10
MAX_VOLUME_GB = 10 * 1024

_RESOURCE_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_PORT_RANGE = re.compile(r"([0-9]{1,5})(?:-([0-9]{1,5}))?")


def shown(value: object) -> str:
    """A value for an error message: quoted, and cut short when long."""
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


def check_name(kind: str, name: str) -> None:
    """Names are one DNS label, which every resource type (and a hostname) accepts."""
    if not isinstance(name, str) or not _RESOURCE_NAME.fullmatch(name):
        raise ProvisioningError(
            f"{kind} name {shown(name)} is not valid: use 1 to 63 lowercase letters, digits and "
            "hyphens, starting and ending with a letter or digit"
        )


def check_user_data(user_data: str) -> None:
    try:
        size = len(user_data.encode("utf-8"))
    except UnicodeEncodeError:
        raise ProvisioningError("the server's user data is not valid Unicode text") from None
    if size > MAX_USER_DATA_BYTES:
        raise ProvisioningError(
            f"the server's user data is {size} bytes; Hetzner Cloud takes at most "
            f"{MAX_USER_DATA_BYTES}"
        )


def check_volume_size(size_gb: int) -> None:
    if isinstance(size_gb, bool) or not isinstance(size_gb, int):
        raise ProvisioningError(f"a volume size must be a whole number of GB, not {shown(size_gb)}")
    if not MIN_VOLUME_GB <= size_gb <= MAX_VOLUME_GB:
        raise ProvisioningError(
            f"a volume of {size_gb} GB is not possible: Hetzner Cloud volumes have "
            f"{MIN_VOLUME_GB} to {MAX_VOLUME_GB} GB"
        )


def check_port_range(port: str | None) -> None:
    match = _PORT_RANGE.fullmatch(port) if isinstance(port, str) else None
    low, high = (int(match[1]), int(match[2] or match[1])) if match else (0, 0)
    if not 1 <= low <= high <= 65_535:
        raise ProvisioningError(
            f"firewall port {shown(port)} is not a port or a range 'from-to' within 1-65535"
        )


def check_networks(sources: Iterable[str]) -> None:
    for source in sources:
        try:
            ipaddress.ip_network(source, strict=True)
        except (TypeError, ValueError):
            raise ProvisioningError(
                f"firewall source {shown(source)} is not a network in CIDR notation"
            ) from None


def networks(addresses: Iterable[str]) -> tuple[str, ...]:
    """Addresses or networks in CIDR notation (a bare address is a network of one)."""
    result = []
    for address in addresses:
        try:
            result.append(str(ipaddress.ip_network(address, strict=True)))
        except (TypeError, ValueError):
            raise ProvisioningError(f"{shown(address)} is not an IP address or network") from None
    return tuple(result)

"""The labels that tie Hetzner resources to a shared host, and Hetzner's rules for labels."""

from __future__ import annotations

import re
from collections.abc import Mapping

from webhost.control.providers.hetzner.validation import shown
from webhost.errors import ProvisioningError

HOST_LABEL = "webhost.host"
MANAGED_LABEL = "webhost.managed"
MANAGED_SELECTOR = f"{MANAGED_LABEL}==true"

_NAME_OR_VALUE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?")
_DNS_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_RESERVED_PREFIX = "hetzner.cloud"


def host_labels(host_id: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The labels every resource of a shared host carries (plus ``extra`` ones)."""
    labels = {**(extra or {}), HOST_LABEL: host_id, MANAGED_LABEL: "true"}
    check_host_labels(labels)
    return labels


def host_selector(host_id: str) -> str:
    """The label selector that finds a host's resources."""
    if not host_id:
        raise ProvisioningError("a host id must not be empty")
    check_label_value(HOST_LABEL, host_id)
    return f"{MANAGED_SELECTOR},{HOST_LABEL}=={host_id}"


def check_label_value(key: str, value: str) -> None:
    if not isinstance(value, str) or (value and not _NAME_OR_VALUE.fullmatch(value)):
        raise ProvisioningError(
            f"label {shown(key)} has the value {shown(value)}, which Hetzner Cloud refuses: up "
            "to 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
        )


def _check_label_key(key: str) -> None:
    if not isinstance(key, str):
        raise ProvisioningError(f"label key {shown(key)} is not text")
    prefix, slash, name = key.rpartition("/")
    problem = None
    if not _NAME_OR_VALUE.fullmatch(name):
        problem = (
            "its name must be 1 to 63 letters, digits, '-', '_' and '.', starting and ending "
            "with a letter or digit"
        )
    elif slash and (len(prefix) > 253 or not all(map(_DNS_LABEL.fullmatch, prefix.split(".")))):
        problem = "its prefix must be a DNS subdomain of at most 253 characters"
    elif slash and prefix == _RESERVED_PREFIX:
        problem = f"the prefix {_RESERVED_PREFIX}/ is reserved by Hetzner"
    if problem is not None:
        raise ProvisioningError(f"label key {shown(key)} is not valid: {problem}")


def check_labels(labels: Mapping[str, str]) -> None:
    for key, value in labels.items():
        _check_label_key(key)
        check_label_value(key, value)


def check_host_labels(labels: Mapping[str, str]) -> str:
    """Checks the labels given to an ``ensure_*`` call; returns the host id they carry."""
    check_labels(labels)
    host_id = labels.get(HOST_LABEL)
    if not host_id or labels.get(MANAGED_LABEL) != "true":
        raise ProvisioningError(
            f"labels must carry {HOST_LABEL}=<host id> and {MANAGED_LABEL}=true "
            "(see host_labels), so a retried step finds what an earlier attempt made"
        )
    return host_id

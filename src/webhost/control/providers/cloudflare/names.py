"""DNS names and record targets, checked before Cloudflare sees them."""

from __future__ import annotations

import ipaddress
import re
import uuid
from dataclasses import dataclass
from typing import Literal, NamedTuple

from webhost.errors import ProvisioningError

RecordType = Literal["A", "AAAA", "CNAME"]
# the record types that answer for a name's address; a name has one of them at a time
ADDRESS_RECORD_TYPES: frozenset[str] = frozenset({"A", "AAAA", "CNAME"})
MAX_NAME_LENGTH = 253
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


class DeploymentHostnames(NamedTuple):
    api: str
    sync: str


@dataclass(frozen=True)
class RecordTarget:
    """What a hostname points at: an address (A or AAAA) or another hostname (CNAME)."""

    type: RecordType
    content: str


def check_slug(slug: str) -> str:
    """A deployment slug becomes the first label of its hostnames, exactly as given."""
    if not slug.isascii() or not _LABEL.fullmatch(slug):
        raise ProvisioningError(
            f"deployment slug {slug!r} is not a DNS label: 1 to 63 lowercase letters, digits "
            "or hyphens, neither first nor last a hyphen"
        )
    if slug[2:4] == "--":
        # RFC 5891 keeps "--" in the third and fourth places for encoded (xn--) labels
        raise ProvisioningError(f"deployment slug {slug!r} may not have '--' after two characters")
    return slug


def normalize_name(name: str, what: str, *, service: bool = False) -> str:
    """A hostname in the lowercase ASCII form Cloudflare stores, without the root dot;
    ``service``: a record's own name, whose first label may begin with an underscore."""
    if not name.isascii():
        raise ProvisioningError(f"{what} {name!r} is not an ASCII hostname (use its xn-- form)")
    normalized = name.lower().removesuffix(".")
    labels = normalized.split(".")
    # a service name's first label starts with an underscore (``_acme-challenge``)
    first = labels[0].removeprefix("_") if service else labels[0]
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in [first, *labels[1:]]):
        raise ProvisioningError(
            f"{what} {name!r} is not a hostname: two or more dot-separated labels of 1 to 63 "
            "letters, digits or hyphens, neither first nor last a hyphen"
        )
    if len(normalized) > MAX_NAME_LENGTH:
        raise ProvisioningError(f"{what} {name!r} is longer than {MAX_NAME_LENGTH} characters")
    return normalized


def name_in_zone(name: str, base_domain: str) -> str:
    """A record name of ours: strictly below the base domain, never the zone apex itself."""
    normalized = normalize_name(name, "hostname", service=True)
    if not normalized.endswith(f".{base_domain}"):
        raise ProvisioningError(f"hostname {name!r} is not below the base domain {base_domain}")
    return normalized


def record_target(target: str, hostname: str) -> RecordTarget:
    """An IPv4 address makes an A record, an IPv6 address AAAA, anything else a CNAME."""
    try:
        address = ipaddress.ip_address(target)
    except ValueError:
        pass
    else:
        if isinstance(address, ipaddress.IPv6Address) and address.scope_id is not None:
            raise ProvisioningError(f"record target {target!r} has a zone index (%...)")
        if address.is_unspecified or address.is_multicast:
            raise ProvisioningError(f"record target {target!r} is not the address of a host")
        return RecordTarget("A" if address.version == 4 else "AAAA", str(address))
    content = normalize_name(target, "record target")
    if content == hostname:
        raise ProvisioningError(f"hostname {hostname} cannot be a CNAME to itself")
    return RecordTarget("CNAME", content)


def same_content(record_type: str, present: str | None, wanted: str) -> bool:
    if present is None:
        return False
    if record_type in ("A", "AAAA"):
        try:
            return ipaddress.ip_address(present) == ipaddress.ip_address(wanted)
        except ValueError:
            return False
    return present.lower().removesuffix(".") == wanted


def deployment_comment(deployment_id: uuid.UUID) -> str:
    """The record comment that says which deployment a record belongs to (comments exist on
    every plan, tags only on paid ones)."""
    return f"webhost deployment {deployment_id}"

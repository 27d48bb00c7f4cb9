"""Hetzner Cloud's documented input rules, as the fake applies them, and its error answers."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from typing import Any

_LABEL_PART = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?")
_DNS_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_HOSTNAME_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
Matcher = Callable[[Mapping[str, str]], bool]
_SELECTOR_TERM = re.compile(r"(!?)([^=!\s]+)\s*(?:(==|=|!=)\s*(\S*))?")

STATUS_OF_CODE = {
    "invalid_input": 400,
    "json_error": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "uniqueness_error": 409,
    "conflict": 409,
    "resource_in_use": 422,
    "volume_already_attached": 422,
    "firewall_already_applied": 422,
    "locked": 423,
    "rate_limit_exceeded": 429,
    "server_error": 500,
    "bad_gateway": 502,
    "service_error": 503,
    "timeout": 504,
}
CODE_OF_STATUS = {
    400: "invalid_input",
    409: "conflict",
    423: "locked",
    429: "rate_limit_exceeded",
    500: "server_error",
    502: "bad_gateway",
    503: "service_error",
    504: "timeout",
}


class ApiError(Exception):
    def __init__(self, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details if details is not None else {}
        self.status = STATUS_OF_CODE.get(code, 400)

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


def invalid(field: str, message: str) -> ApiError:
    details = {"fields": [{"name": field, "messages": [message]}]}
    return ApiError("invalid_input", f"invalid input in field '{field}'", details)


def check_labels(labels: object) -> dict[str, str]:
    if not isinstance(labels, dict):
        raise invalid("labels", "must be an object")
    for key, value in labels.items():
        prefix, slash, name = key.rpartition("/")
        valid_prefix = not slash or (
            len(prefix) <= 253
            and all(_DNS_LABEL.fullmatch(part) for part in prefix.split("."))
            and prefix != "hetzner.cloud"
        )
        if not _LABEL_PART.fullmatch(name) or not valid_prefix:
            raise invalid("labels", f"invalid label key {key!r}")
        if not isinstance(value, str) or (value and not _LABEL_PART.fullmatch(value)):
            raise invalid("labels", f"invalid label value for key {key!r}")
    return dict(labels)


def check_server_name(name: object) -> str:
    """A valid hostname (RFC 1123), as Hetzner requires of server names."""
    if not isinstance(name, str) or len(name) > 253:
        raise invalid("name", "must be a valid hostname")
    if not all(_HOSTNAME_LABEL.fullmatch(part) for part in name.split(".")):
        raise invalid("name", "must be a valid hostname")
    return name


def check_name(name: object) -> str:
    if not isinstance(name, str) or not 1 <= len(name) <= 128 or name != name.strip():
        raise invalid("name", "must be 1 to 128 characters without surrounding whitespace")
    return name


def check_rules(rules: object) -> list[dict[str, Any]]:
    if not isinstance(rules, list):
        raise invalid("rules", "must be a list")
    checked = []
    for rule in rules:
        if not isinstance(rule, dict) or rule.get("direction") not in ("in", "out"):
            raise invalid("rules", "direction must be in or out")
        protocol = rule.get("protocol")
        if protocol not in ("tcp", "udp", "icmp", "esp", "gre"):
            raise invalid("rules", f"unknown protocol {protocol!r}")
        port = rule.get("port")
        if protocol in ("tcp", "udp"):
            match = re.fullmatch(r"([0-9]+)(?:-([0-9]+))?", port if isinstance(port, str) else "")
            if not match or not 1 <= int(match[1]) <= int(match[2] or match[1]) <= 65535:
                raise invalid("rules", f"invalid port {port!r}")
        elif port is not None:
            raise invalid("rules", "port is only allowed for tcp and udp")
        ips_field = "source_ips" if rule["direction"] == "in" else "destination_ips"
        ips = rule.get(ips_field)
        if not isinstance(ips, list) or not ips:
            raise invalid("rules", f"{ips_field} must list at least one network")
        for network in ips:
            try:
                ipaddress.ip_network(network, strict=True)
            except (TypeError, ValueError):
                raise invalid("rules", f"{network!r} is not in CIDR notation") from None
        checked.append(
            {
                "direction": rule["direction"],
                "protocol": protocol,
                "port": port,
                "source_ips": list(rule.get("source_ips") or []),
                "destination_ips": list(rule.get("destination_ips") or []),
                "description": rule.get("description"),
            }
        )
    return checked


def _selector_test(negated: str, key: str, operator: str | None, value: str | None) -> Matcher:
    if operator is None:
        return lambda labels: (key in labels) != bool(negated)
    if operator == "!=":
        return lambda labels: labels.get(key) != value
    return lambda labels: labels.get(key) == value


def label_selector(selector: str) -> Matcher:
    """Hetzner's label selector: comma-separated ``k==v``, ``k=v``, ``k!=v``, ``k``, ``!k``."""
    tests: list[Matcher] = []
    for term in selector.split(","):
        match = _SELECTOR_TERM.fullmatch(term.strip())
        if not match or (match[1] and match[3]):
            raise invalid("label_selector", f"invalid label selector term {term!r}")
        tests.append(_selector_test(match[1], match[2], match[3], match[4]))
    return lambda labels: all(test(labels) for test in tests)

"""The fake's Certificates resource: hostnames added to an app with an ACME certificate, checked
against DNS, removed. Issuance is DNS-01 only, as behind Cloudflare's proxy: a check finds the
certificate issued once ``FakeFly.acme_dns`` (a lookup of CNAME targets, wired to the fake
Cloudflare by tests; None issues at once) shows the hostname's validation record."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from tests.support.fakes.flyio.records import FlyError, now_iso

if TYPE_CHECKING:
    from tests.support.fakes.flyio.state import FakeFly

_HOSTNAME = re.compile(r"(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


def _challenge(app: str, hostname: str) -> dict[str, str]:
    return {"name": f"_acme-challenge.{hostname}", "target": f"{hostname}.{app}.flydns.net"}


def _details(fly: FakeFly, app: str, hostname: str) -> dict[str, Any]:
    stored = fly.app(app).certificates.get(hostname)
    if stored is None:
        raise FlyError(404, f"certificate for {hostname} not found")
    issued = stored["issued"]
    return {
        "hostname": hostname,
        "configured": issued,
        "acme_requested": True,
        "status": "active" if issued else "pending_validation",
        "rate_limited_until": None,
        "certificates": [{"source": "fly", "status": "active"}] if issued else [],
        "validation": {"dns_configured": issued},
        "dns_requirements": {
            "cname": f"{app}.fly.dev",
            "acme_challenge": _challenge(app, hostname),
        },
        "validation_errors": [],
        "created_at": stored["created_at"],
    }


def request_acme(fly: FakeFly, app: str, body: dict[str, Any]) -> dict[str, Any]:
    hostname = body.get("hostname")
    if not isinstance(hostname, str) or not _HOSTNAME.fullmatch(hostname):
        raise FlyError(422, "hostname is not a valid domain name")
    certificates = fly.app(app).certificates
    if hostname in certificates:
        raise FlyError(422, f"hostname {hostname} already exists on this app")
    certificates[hostname] = {"issued": False, "created_at": now_iso()}
    return _details(fly, app, hostname)


def show(fly: FakeFly, app: str, hostname: str) -> dict[str, Any]:
    return _details(fly, app, hostname)


def check(fly: FakeFly, app: str, hostname: str) -> dict[str, Any]:
    stored = fly.app(app).certificates.get(hostname)
    if stored is not None and not stored["issued"]:
        challenge = _challenge(app, hostname)
        stored["issued"] = fly.acme_dns is None or challenge["target"] in fly.acme_dns(
            challenge["name"]
        )
    return _details(fly, app, hostname)


def delete(fly: FakeFly, app: str, hostname: str) -> None:
    if fly.app(app).certificates.pop(hostname, None) is None:
        raise FlyError(404, f"certificate for {hostname} not found")

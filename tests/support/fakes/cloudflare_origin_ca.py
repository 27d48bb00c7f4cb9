"""The fake's Origin CA (``/certificates``): certificates signed for a CSR's key with the
hostnames asked for, listed by zone and revoked, in the shapes of Cloudflare's API. Its CA
certificate (``ca_pem``) is what a test's stand-in for Cloudflare's edge trusts."""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Mapping
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.fakes.cloudflare_zone import CloudflareRefusal

VALIDITIES = frozenset({7, 30, 90, 365, 730, 1095, 5475})
REQUEST_TYPES = frozenset({"origin-rsa", "origin-ecc", "keyless-certificate"})


class OriginCA:
    def __init__(self, zone_name: str) -> None:
        self.zone_name = zone_name
        self._key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Fake Cloudflare Origin CA")])
        now = datetime.datetime.now(datetime.UTC)
        self._ca = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(self._key, hashes.SHA256())
        )
        self.ca_pem = self._ca.public_bytes(serialization.Encoding.PEM).decode()
        self.certificates: dict[str, dict[str, Any]] = {}
        self.revoked: set[str] = set()

    def create(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise CloudflareRefusal(400, 1000, "the request body must be a JSON object")
        hostnames, validity = body.get("hostnames"), body.get("requested_validity", 5475)
        if body.get("request_type") not in REQUEST_TYPES:
            raise CloudflareRefusal(400, 1010, "request_type is not a valid request type")
        if validity not in VALIDITIES:
            raise CloudflareRefusal(400, 1011, "requested_validity is not a valid validity")
        if (
            not isinstance(hostnames, list)
            or not hostnames
            or not all(
                isinstance(name, str)
                and (name == self.zone_name or name.endswith("." + self.zone_name))
                for name in hostnames
            )
        ):
            raise CloudflareRefusal(400, 1012, "hostnames must be names in the zone")
        try:
            request = x509.load_pem_x509_csr(str(body.get("csr", "")).encode())
        except ValueError:
            raise CloudflareRefusal(
                400, 1013, "csr is not a PEM certificate signing request"
            ) from None
        now = datetime.datetime.now(datetime.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(request.subject)
            .issuer_name(self._ca.subject)
            .public_key(request.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=validity))
            .add_extension(
                x509.SubjectAlternativeName([x509.DNSName(name) for name in hostnames]),
                critical=False,
            )
            .sign(self._key, hashes.SHA256())
        )
        made = {
            "id": secrets.token_hex(20),
            "certificate": certificate.public_bytes(serialization.Encoding.PEM).decode(),
            "csr": body["csr"],
            "hostnames": hostnames,
            "request_type": body["request_type"],
            "requested_validity": validity,
            "expires_on": certificate.not_valid_after_utc.isoformat(),
        }
        self.certificates[made["id"]] = made
        return made

    def list(self, query: Mapping[str, str], zone_id: str) -> list[dict[str, Any]]:
        if query.get("zone_id") != zone_id:
            raise CloudflareRefusal(400, 1001, "zone_id is required and must be this zone's")
        return [made for made in self.certificates.values() if made["id"] not in self.revoked]

    def revoke(self, certificate_id: str) -> dict[str, Any]:
        if certificate_id not in self.certificates or certificate_id in self.revoked:
            raise CloudflareRefusal(404, 1002, "certificate not found")
        self.revoked.add(certificate_id)
        return {"id": certificate_id, "revoked_at": datetime.datetime.now(datetime.UTC).isoformat()}

    def live_for(self, hostname: str) -> list[dict[str, Any]]:
        """The certificates covering ``hostname`` that are not revoked."""
        return [
            made
            for made in self.certificates.values()
            if made["id"] not in self.revoked and hostname in made["hostnames"]
        ]

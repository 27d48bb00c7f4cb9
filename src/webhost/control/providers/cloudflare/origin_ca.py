"""Origin certificates (Cloudflare's Origin CA) for shared hosts: Cloudflare, in the zone's
Full (strict) mode, reaches a host over TLS and trusts exactly these.

The host's key is made here and goes only into the host's own user data; Cloudflare sees a
certificate signing request. A host's certificate covers its own name and the deployments'
names it serves (``*.api.<base domain>``, ``*.sync.<base domain>``). Each certificate is found
again by its host name, so a host's removal revokes every one ever issued for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cloudflare
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from webhost.config import Settings
from webhost.control.providers.cloudflare.retries import with_retries
from webhost.control.providers.retries import RetryPolicy
from webhost.errors import ConfigurationError

# the longest validity Cloudflare offers (15 years): a host lives far shorter
VALIDITY_DAYS: Literal[5475] = 5475


@dataclass(frozen=True)
class OriginCertificate:
    id: str
    certificate_pem: str
    key_pem: str


def _key_and_request(hostnames: list[str]) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0])]))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name) for name in hostnames]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return key_pem, request.public_bytes(serialization.Encoding.PEM).decode()


class OriginCertificates:
    def __init__(self, settings: Settings, *, retry: RetryPolicy | None = None) -> None:
        if settings.cloudflare_api_token is None or not settings.cloudflare_zone_id:
            raise ConfigurationError(
                "origin certificates need WEBHOST_CLOUDFLARE_API_TOKEN and "
                "WEBHOST_CLOUDFLARE_ZONE_ID to be set"
            )
        self.zone_id = settings.cloudflare_zone_id
        self.retry = retry or RetryPolicy()
        self._client = cloudflare.AsyncCloudflare(
            api_token=settings.cloudflare_api_token.get_secret_value(),
            base_url=settings.cloudflare_api_base,
            max_retries=0,
        )
        # the library prefers CLOUDFLARE_API_KEY / CLOUDFLARE_EMAIL from the environment
        self._client.api_key = self._client.api_email = self._client.user_service_key = None

    async def __aenter__(self) -> OriginCertificates:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.close()

    async def issue(self, hostnames: list[str]) -> OriginCertificate:
        """A certificate for ``hostnames`` (the first is the host's own name), with a new key."""
        key_pem, request_pem = _key_and_request(hostnames)

        async def create() -> OriginCertificate:
            made = await self._client.origin_ca_certificates.create(
                csr=request_pem,
                hostnames=hostnames,
                request_type="origin-ecc",
                requested_validity=VALIDITY_DAYS,
            )
            if made is None or not made.certificate or not made.id:
                raise ConfigurationError("Cloudflare answered an origin certificate request empty")
            return OriginCertificate(id=made.id, certificate_pem=made.certificate, key_pem=key_pem)

        return await with_retries(
            f"issue an origin certificate for {hostnames[0]}", create, self.retry
        )

    async def revoke_for(self, hostname: str) -> int:
        """Revoke every origin certificate in the zone that covers ``hostname``; how many."""

        async def revoke() -> int:
            revoked = 0
            async for found in self._client.origin_ca_certificates.list(zone_id=self.zone_id):
                # revoked certificates are no longer listed
                if found.id and hostname in (found.hostnames or []):
                    await self._client.origin_ca_certificates.delete(found.id)
                    revoked += 1
            return revoked

        return await with_retries(
            f"revoke the origin certificates of {hostname}", revoke, self.retry
        )

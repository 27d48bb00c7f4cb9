"""The DNS records of deployments' hostnames in one Cloudflare zone.

Each hostname has one address record (A, AAAA or CNAME) whose comment names the deployment it
belongs to. Records are found by name and that comment, so every method can be repeated after a
crash at any point and ends in the same state.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import cloudflare

from webhost.control.providers.cloudflare.names import (
    ADDRESS_RECORD_TYPES,
    DeploymentHostnames,
    RecordTarget,
    check_slug,
    deployment_comment,
    name_in_zone,
    normalize_name,
    record_target,
    same_content,
)
from webhost.control.providers.cloudflare.retries import with_retries
from webhost.control.providers.retries import RetryPolicy
from webhost.errors import ConfigurationError, ProvisioningError

CLOUDFLARE_API = "https://api.cloudflare.com/client/v4"
AUTOMATIC_TTL = 1
_ZONE_ID = re.compile(r"[0-9a-f]{32}")
_PAGE_SIZE = 100


@dataclass(frozen=True)
class DnsRecord:
    id: str
    name: str
    type: str
    content: str | None
    ttl: int
    proxied: bool
    comment: str | None


@dataclass(frozen=True)
class WantedRecord:
    name: str
    target: RecordTarget
    ttl: int
    proxied: bool
    comment: str

    def is_met_by(self, record: DnsRecord) -> bool:
        return (
            record.type == self.target.type
            and same_content(record.type, record.content, self.target.content)
            and record.ttl == self.ttl
            and record.proxied == self.proxied
            and record.comment == self.comment
        )

    def fields(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.target.type,
            "content": self.target.content,
            "ttl": self.ttl,
            "proxied": self.proxied,
            "comment": self.comment,
        }


class CloudflareDns:
    """``{slug}.api.<base domain>`` and ``{slug}.sync.<base domain>`` in the zone ``zone_id``.

    ``ttl`` is in seconds (1 is Cloudflare's automatic); ``proxied`` sends traffic through
    Cloudflare's proxy, whose records always have the automatic TTL.
    """

    def __init__(
        self,
        api_token: str,
        zone_id: str,
        base_domain: str,
        *,
        api_base: str = CLOUDFLARE_API,
        ttl: int = 60,
        proxied: bool = False,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        if not api_token.strip():
            raise ConfigurationError("the Cloudflare API token is empty")
        if not _ZONE_ID.fullmatch(zone_id):
            raise ConfigurationError(
                f"Cloudflare zone id {zone_id!r} is not 32 lowercase hexadecimal characters"
            )
        if ttl != AUTOMATIC_TTL and not 30 <= ttl <= 86_400:
            raise ConfigurationError(
                f"DNS TTL {ttl} must be 1 (automatic) or between 30 and 86400 seconds"
            )
        try:
            self.base_domain = normalize_name(base_domain, "base domain")
        except ProvisioningError as exc:
            raise ConfigurationError(exc.message) from None
        self.zone_id = zone_id
        self.ttl = AUTOMATIC_TTL if proxied else ttl
        self.proxied = proxied
        self.retry = retry or RetryPolicy()
        # retries are ours (whole operations, see retries.py), not the library's single requests
        self._client = cloudflare.AsyncCloudflare(
            api_token=api_token, base_url=api_base, timeout=timeout, max_retries=0
        )
        # the library prefers CLOUDFLARE_API_KEY / CLOUDFLARE_EMAIL from the environment
        self._client.api_key = self._client.api_email = self._client.user_service_key = None

    async def __aenter__(self) -> CloudflareDns:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.close()

    def hostnames(self, slug: str) -> DeploymentHostnames:
        label = check_slug(slug)
        return DeploymentHostnames(
            api=name_in_zone(f"{label}.api.{self.base_domain}", self.base_domain),
            sync=name_in_zone(f"{label}.sync.{self.base_domain}", self.base_domain),
        )

    async def ensure_record(
        self, hostname: str, target: str, *, deployment_id: uuid.UUID
    ) -> DnsRecord:
        """Point ``hostname`` at ``target``: create its record, change it, or switch its type."""
        return await self.ensure_owned_record(hostname, target, deployment_comment(deployment_id))

    async def ensure_owned_record(self, hostname: str, target: str, owner: str) -> DnsRecord:
        """``ensure_record`` for a record whose comment is ``owner`` (a host's own name)."""
        name = name_in_zone(hostname, self.base_domain)
        wanted = WantedRecord(
            name=name,
            target=record_target(target, name),
            ttl=self.ttl,
            proxied=self.proxied,
            comment=owner,
        )
        action = f"point {name} at {wanted.target.content}"
        return await with_retries(action, lambda: self._ensure_once(wanted), self.retry)

    async def records_of(self, hostname: str) -> list[DnsRecord]:
        """Every record of ``hostname``, whoever made it."""
        name = name_in_zone(hostname, self.base_domain)
        return await with_retries(
            f"list the DNS records of {name}", lambda: self._records_named(name), self.retry
        )

    async def delete_record(self, hostname: str, *, deployment_id: uuid.UUID) -> int:
        """Remove the deployment's records of ``hostname`` (others' stay); how many went now."""
        return await self.delete_owned_record(hostname, deployment_comment(deployment_id))

    async def delete_owned_record(self, hostname: str, owner: str) -> int:
        """Remove the records of ``hostname`` whose comment is ``owner``; how many went now."""
        name = name_in_zone(hostname, self.base_domain)
        removed: set[str] = set()

        async def delete_once() -> int:
            for record in await self._records_named(name):
                if record.comment == owner and await self._delete(record.id):
                    removed.add(record.id)
            return len(removed)

        return await with_retries(f"delete the DNS records of {name}", delete_once, self.retry)

    async def _ensure_once(self, wanted: WantedRecord) -> DnsRecord:
        addresses = [
            r for r in await self._records_named(wanted.name) if r.type in ADDRESS_RECORD_TYPES
        ]
        foreign = [r for r in addresses if r.comment != wanted.comment]
        if foreign:
            raise ProvisioningError(
                f"{wanted.name} already has a {foreign[0].type} record ({foreign[0].content}) "
                f"that is not this deployment's; remove it or choose another slug"
            )
        same_type = sorted(
            (r for r in addresses if r.type == wanted.target.type),
            key=lambda r: not same_content(r.type, r.content, wanted.target.content),
        )
        keep = same_type[0] if same_type else None
        stale = [r for r in addresses if r is not keep]
        if keep is None:
            if stale:
                return await self._replace(stale, wanted)
            return await self._create(wanted)
        for record in stale:
            await self._delete(record.id)
        if wanted.is_met_by(keep):
            return keep
        return await self._update(keep.id, wanted)

    async def _records_named(self, name: str) -> list[DnsRecord]:
        found: list[DnsRecord] = []
        pages = self._client.dns.records.list(
            zone_id=self.zone_id, name={"exact": name}, per_page=_PAGE_SIZE
        )
        async for record in pages:
            converted = dns_record(record)
            # the filter is Cloudflare's; what is changed or deleted is decided here
            if converted.name.lower() == name:
                found.append(converted)
        return found

    async def _create(self, wanted: WantedRecord) -> DnsRecord:
        created = await self._client.dns.records.create(zone_id=self.zone_id, **wanted.fields())
        return await self._stored_as_wanted(dns_record(created), wanted)

    async def _stored_as_wanted(self, record: DnsRecord, wanted: WantedRecord) -> DnsRecord:
        """Cloudflare takes a name outside the zone as relative to it (``x.other.org`` becomes
        ``x.other.org.<zone>``); such a record would never be found again by its name."""
        if record.name.lower() == wanted.name:
            return record
        await self._delete(record.id)
        raise ProvisioningError(
            f"Cloudflare stored {wanted.name} as {record.name}: the base domain "
            f"{self.base_domain} is not in zone {self.zone_id}"
        )

    async def _update(self, record_id: str, wanted: WantedRecord) -> DnsRecord:
        updated = await self._client.dns.records.update(
            record_id, zone_id=self.zone_id, **wanted.fields()
        )
        return dns_record(updated)

    async def _replace(self, stale: Sequence[DnsRecord], wanted: WantedRecord) -> DnsRecord:
        """Delete and create in one batch, which Cloudflare applies in one transaction: the
        name never goes without a record, and a failed switch leaves the old one in place."""
        result = await self._client.dns.records.batch(
            zone_id=self.zone_id,
            deletes=[{"id": record.id} for record in stale],
            posts=[wanted.fields()],  # type: ignore[list-item]
        )
        posts = result.posts if result is not None else None
        if not posts:
            raise ProvisioningError(f"Cloudflare's answer to switching {wanted.name} had no record")
        return await self._stored_as_wanted(dns_record(posts[0]), wanted)

    async def _delete(self, record_id: str) -> bool:
        """Delete one record; False when it was already gone."""
        try:
            await self._client.dns.records.delete(record_id, zone_id=self.zone_id)
        except cloudflare.NotFoundError:
            return False
        return True


def dns_record(record: Any) -> DnsRecord:
    """Our view of one of the library's record models (a union over every record type)."""
    if record is None:
        raise ProvisioningError("Cloudflare answered without the DNS record")
    return DnsRecord(
        id=record.id,
        name=record.name,
        type=record.type,
        content=record.content,
        ttl=int(record.ttl),
        proxied=bool(record.proxied),
        comment=record.comment,
    )

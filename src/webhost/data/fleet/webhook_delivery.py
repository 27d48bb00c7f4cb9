"""The plane's webhook dispatcher: claims due deliveries, signs and posts them, records results.

Deliveries are rows (webhooks_repository); this process only holds a lease on those it is
sending. A tenant whose transaction enqueued deliveries wakes the dispatcher at once, and the
retries it schedules are remembered and sent on time; every ``poll_seconds`` it also visits
every tenant, for deliveries other processes queued or left behind. Failures are retried
with exponential back-off for a day, then given up; a webhook failing many deliveries in a row
is disabled with the reason, until its owner re-enables it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import socket
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from webhost.data.fleet import webhooks_repository as repository
from webhost.data.fleet.options import FleetOptions
from webhost.data.fleet.webhook_signing import SIGNATURE_HEADER, signature_header
from webhost.data.tenancy import repository as directory
from webhost.data.tenancy.scope import Tenant, tenant_transaction

log = structlog.get_logger(__name__)

GIVE_UP_AFTER = timedelta(hours=24)
FIRST_RETRY_SECONDS = 10.0
LONGEST_RETRY_SECONDS = 3600.0
LEASE_SECONDS = 60.0
BATCH = 20
SEND_TIMEOUT_SECONDS = 10.0


def retry_delay(attempts: int, first: float = FIRST_RETRY_SECONDS) -> float:
    """10 s, 20 s, 40 s ... at most an hour between attempts."""
    return min(LONGEST_RETRY_SECONDS, first * 2.0 ** max(0, attempts - 1))


class AddressRefused(Exception):
    pass


async def check_destination(url: str, allow_private: bool) -> None:
    """Refuse URLs that resolve to this platform's own networks (loopback, private, link-local):
    a tenant must not make the plane call its internal services."""
    if allow_private:
        return
    host = urlsplit(url).hostname or ""
    port = urlsplit(url).port or 443
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise AddressRefused(f"cannot resolve {host}: {exc.strerror or exc}") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise AddressRefused(f"{host} resolves to a non-public address ({address})")


class WebhookDispatcher:
    def __init__(self, engine: AsyncEngine, only: uuid.UUID | None, options: FleetOptions) -> None:
        self._engine = engine
        self._only = only
        self._options = options
        self._woken: set[Tenant] = set()
        self._due: dict[Tenant, float] = {}  # monotonic time of each tenant's next retry
        self._wake = asyncio.Event()
        self._client: httpx.AsyncClient | None = None

    def wake(self, tenant: Tenant) -> None:
        """Deliveries of ``tenant`` were committed: send them now rather than at the next poll."""
        self._woken.add(tenant)
        self._wake.set()

    async def run(self) -> None:
        self._client = httpx.AsyncClient(
            timeout=SEND_TIMEOUT_SECONDS, follow_redirects=False, trust_env=False
        )
        try:
            next_sweep = 0.0
            while True:
                now = time.monotonic()
                tenants = set(self._woken)
                self._woken.clear()
                tenants |= {tenant for tenant, due in self._due.items() if due <= now}
                if now >= next_sweep:
                    tenants |= await self._every_tenant()
                    next_sweep = now + self._options.webhook_poll_seconds
                for tenant in tenants:
                    self._due.pop(tenant, None)
                    try:
                        await self._deliver_due(tenant)
                        await self._schedule(tenant)
                    except Exception:  # one tenant's surprise must not stop every delivery
                        log.exception("fleet.webhooks_failed", tenant=tenant.name)
                        self._due[tenant] = time.monotonic() + FIRST_RETRY_SECONDS
                self._wake.clear()
                if self._woken:
                    continue
                wake_at = min([next_sweep, *self._due.values()])
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), max(0.0, wake_at - time.monotonic()))
        finally:
            await self._client.aclose()

    async def _schedule(self, tenant: Tenant) -> None:
        """Remember when the tenant's next retry is due: this process's own retries are sent
        on time without visiting every tenant."""
        try:
            async with tenant_transaction(self._engine, tenant) as connection:
                seconds = await repository.seconds_to_next_due(connection)
        except (OSError, SQLAlchemyError):
            return  # the next sweep finds it
        if seconds is not None:
            self._due[tenant] = time.monotonic() + max(0.0, seconds)

    async def _every_tenant(self) -> set[Tenant]:
        try:
            async with self._engine.connect() as connection:
                return set(await directory.registered_tenants(connection, only=self._only))
        except (OSError, SQLAlchemyError) as exc:
            log.warning("fleet.webhooks_unavailable", error=str(exc)[:200])
            return set()

    async def _deliver_due(self, tenant: Tenant) -> None:
        while True:
            try:
                async with tenant_transaction(self._engine, tenant) as connection:
                    if not await repository.has_due(connection):
                        return
                    claimed = await repository.claim_due(connection, LEASE_SECONDS, BATCH)
            except (OSError, SQLAlchemyError) as exc:
                log.warning("fleet.webhooks_claim_failed", tenant=tenant.name, error=str(exc)[:200])
                return
            if not claimed:
                return
            await asyncio.gather(*(self._send(tenant, delivery) for delivery in claimed))
            if len(claimed) < BATCH:
                return

    async def _send(self, tenant: Tenant, delivery: dict[str, Any]) -> None:
        assert self._client is not None
        body = json.dumps(delivery["payload"], separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "WebHost-Webhooks/1",
            "WebHost-Event": delivery["event_type"],
            "WebHost-Delivery": str(delivery["id"]),
            SIGNATURE_HEADER: signature_header(delivery["secret"], body, int(time.time())),
        }
        started = time.perf_counter()
        status_code: int | None = None
        try:
            await check_destination(delivery["url"], self._options.webhook_allow_private_networks)
            response = await self._client.post(delivery["url"], content=body, headers=headers)
            status_code = response.status_code
            error = "" if response.is_success else f"HTTP {status_code}"
        except AddressRefused as exc:
            error = str(exc)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            error = f"{type(exc).__name__}: {exc}"[:300] or type(exc).__name__
        elapsed_ms = round((time.perf_counter() - started) * 1000)
        try:
            async with tenant_transaction(self._engine, tenant) as connection:
                if not error and status_code is not None:
                    await repository.record_success(
                        connection, delivery["id"], delivery["webhook_id"], status_code, elapsed_ms
                    )
                    return
                retry_at: datetime | None = datetime.now(UTC) + timedelta(
                    seconds=retry_delay(
                        delivery["attempts"], self._options.webhook_first_retry_seconds
                    )
                )
                if retry_at is not None and retry_at > delivery["created_at"] + GIVE_UP_AFTER:
                    retry_at = None
                disabled = await repository.record_failure(
                    connection,
                    delivery["id"],
                    delivery["webhook_id"],
                    status_code=status_code,
                    error=error,
                    ms=elapsed_ms if status_code is not None else None,
                    retry_at=retry_at,
                    disable_after=self._options.webhook_disable_after_failures,
                )
            if disabled:
                log.warning(
                    "fleet.webhook_disabled", tenant=tenant.name, webhook=delivery["webhook_id"]
                )
        except (OSError, SQLAlchemyError) as exc:
            # the lease runs out and the delivery is tried again
            log.warning("fleet.webhook_record_failed", tenant=tenant.name, error=str(exc)[:200])

"""The control plane's client of a remote data plane's management API (``/_manage/v1``).

Providers whose planes run elsewhere (a shared host, a dedicated machine) provision tenants and
keys through it, as the local provider does with SQL. Connect errors, 429 and 5xx are retried
under ``PLANE_RETRIES``; any other refusal is a ``PlaneRefusal`` carrying the plane's message.
The token is sent in a header and never appears in an error or a log line.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Collection
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import structlog
from pydantic import ValidationError

from webhost.control.keys.models import KeyScope
from webhost.control.providers.retries import PLANE_RETRIES, RetryPolicy, retry_after_seconds
from webhost.data.tenancy.dump_frames import MEDIA_TYPE
from webhost.data.tenancy.limits import TenantLimits
from webhost.data.tenancy.management import TenantHoldings
from webhost.data.tenancy.management_schemas import (
    CapacityOut,
    CopyOut,
    DigestsOut,
    HoldingsOut,
    LimitsBody,
    TenantBody,
)
from webhost.data.tenancy.repository import ServingState
from webhost.data.tenancy.scope import Tenant
from webhost.data.tenancy.transfer import CopyReport, TableDigest
from webhost.errors import ConfigurationError, ProvisioningError

log = structlog.get_logger(__name__)

MANAGE = "/_manage/v1"
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
HEALTH_POLL_SECONDS = 1.0
# between two chunks of an export: a large table's first rows can take this long to come
EXPORT_READ_SECONDS = 120.0
M = TypeVar("M", HoldingsOut, CapacityOut, CopyOut, DigestsOut)


class PlaneRefusal(ProvisioningError):
    """The plane answered with a status no retry changes (a 4xx other than 429)."""

    def __init__(self, message: str, *, response_status: int, plane_code: str | None) -> None:
        super().__init__(message)
        self.response_status = response_status
        self.plane_code = plane_code


class _Retryable(Exception):
    def __init__(self, failure: str, retry_after: float | None = None) -> None:
        super().__init__(failure)
        self.failure = failure
        self.retry_after = retry_after


class RemotePlane:
    """One connection pool to one plane's management API."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        retry: RetryPolicy | None = None,
        timeout_seconds: float = 10.0,
    ) -> None:
        token = token.strip()
        if not token:
            raise ConfigurationError("the data plane's management token is empty")
        if not token.isascii() or not token.isprintable():
            raise ConfigurationError(
                "the data plane's management token holds characters a header cannot carry"
            )
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._retry = retry or PLANE_RETRIES
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=timeout_seconds,
            follow_redirects=False,
            trust_env=False,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def wait_healthy(self, timeout_seconds: float = 600.0) -> None:
        """Until the plane answers ``GET /health`` with 200 (a new machine boots, pulls its
        image and migrates before it does)."""
        deadline = time.monotonic() + timeout_seconds
        last = "no answer yet"
        while True:
            try:
                response = await self._client.get("/health", timeout=min(5.0, timeout_seconds))
                if response.status_code == 200:
                    return
                last = f"HTTP {response.status_code}"
            except httpx.TransportError as exc:
                last = f"no answer ({type(exc).__name__})"
            if time.monotonic() + HEALTH_POLL_SECONDS > deadline:
                raise ProvisioningError(
                    f"the data plane at {self.base_url} did not become healthy within "
                    f"{timeout_seconds:g} s (last: {last})"
                )
            await asyncio.sleep(HEALTH_POLL_SECONDS)

    async def ensure_tenant(self, tenant: Tenant, limits: TenantLimits) -> None:
        body = TenantBody(name=tenant.name, limits=LimitsBody.of(limits))
        await self._send(
            "PUT", f"/tenants/{tenant.id}", action="provision the tenant", json=_json(body)
        )

    async def remove_tenant(self, tenant_id: uuid.UUID) -> None:
        # a plane that does not hold the tenant (404) has nothing of it left to remove
        await self._send(
            "DELETE", f"/tenants/{tenant_id}", action="remove the tenant", accept=(404,)
        )

    async def publish_key(
        self, tenant_id: uuid.UUID, prefix: str, secret_digest: str, scope: KeyScope
    ) -> None:
        await self._send(
            "PUT",
            f"/tenants/{tenant_id}/keys/{_segment(prefix)}",
            action="publish an API key",
            json={"secret_digest": secret_digest, "scope": KeyScope(scope).value},
        )

    async def revoke_key(self, tenant_id: uuid.UUID, prefix: str) -> None:
        await self._send(
            "DELETE", f"/tenants/{tenant_id}/keys/{_segment(prefix)}", action="revoke an API key"
        )

    async def publish_limits(self, tenant: Tenant, limits: TenantLimits) -> None:
        await self._send(
            "PUT",
            f"/tenants/{tenant.id}/limits",
            action="publish the plan's limits",
            json=_json(LimitsBody.of(limits)),
        )

    async def set_serving_state(
        self, tenant_id: uuid.UUID, state: ServingState, message: str | None
    ) -> None:
        await self._send(
            "PUT",
            f"/tenants/{tenant_id}/serving-state",
            action=f"set the serving state to {ServingState(state).value}",
            json={"state": ServingState(state).value, "message": message},
        )

    async def holdings(self, tenant_id: uuid.UUID) -> TenantHoldings:
        response = await self._send(
            "GET", f"/tenants/{tenant_id}/holdings", action="read the tenant's holdings"
        )
        return self._parsed(response, HoldingsOut, "read the tenant's holdings").to_holdings()

    async def export_lines(self, tenant_id: uuid.UUID) -> AsyncIterator[str]:
        """The tenant's rows as JSON lines, streamed. The plane is asked once, not retried:
        what it already sent cannot be taken back; a refusal before the first line raises."""
        action = "export the tenant's data"
        try:
            async with self._client.stream(
                "GET",
                f"{MANAGE}/tenants/{tenant_id}/export",
                headers={"Accept": "application/x-ndjson"},
                timeout=httpx.Timeout(self._client.timeout.connect, read=EXPORT_READ_SECONDS),
            ) as response:
                if not response.is_success:
                    await response.aread()
                    raise self._refusal(response, action)
                async for line in response.aiter_lines():
                    if line:
                        yield line
        except httpx.TransportError as exc:
            raise self._cut(action, exc) from None

    async def freeze(self, tenant_id: uuid.UUID) -> None:
        await self._send("POST", f"/tenants/{tenant_id}/freeze", action="freeze the tenant")

    async def thaw(self, tenant_id: uuid.UUID) -> None:
        await self._send("POST", f"/tenants/{tenant_id}/thaw", action="thaw the tenant")

    async def dump(self, tenant_id: uuid.UUID) -> AsyncIterator[bytes]:
        """The tenant's dump (``data/tenancy/dump.py``), streamed; asked once, not retried."""
        action = "dump the tenant's data"
        try:
            async with self._client.stream(
                "GET",
                f"{MANAGE}/tenants/{tenant_id}/data",
                headers={"Accept": MEDIA_TYPE},
                timeout=httpx.Timeout(self._client.timeout.connect, read=EXPORT_READ_SECONDS),
            ) as response:
                if not response.is_success:
                    await response.aread()
                    raise self._refusal(response, action)
                async for chunk in response.aiter_raw():
                    yield chunk
        except httpx.TransportError as exc:
            raise self._cut(action, exc) from None

    async def restore(self, tenant_id: uuid.UUID, chunks: AsyncIterator[bytes]) -> CopyReport:
        """Replace the tenant's data with a dump streamed from ``chunks`` (all or nothing)."""
        action = "restore the tenant's data"
        try:
            response = await self._client.put(
                f"{MANAGE}/tenants/{tenant_id}/data",
                content=chunks,
                headers={"Content-Type": MEDIA_TYPE},
                timeout=httpx.Timeout(self._client.timeout.connect, read=EXPORT_READ_SECONDS),
            )
        except httpx.TransportError as exc:
            raise self._cut(action, exc) from None
        if not response.is_success:
            raise self._refusal(response, action)
        copied = self._parsed(response, CopyOut, action)
        return CopyReport(tables=copied.tables, rows=copied.rows)

    async def digests(self, tenant_id: uuid.UUID) -> dict[str, TableDigest]:
        action = "digest the tenant's data"
        response = await self._send("GET", f"/tenants/{tenant_id}/digests", action=action)
        found = self._parsed(response, DigestsOut, action)
        return {
            digest.table: TableDigest(table=digest.table, rows=digest.rows, digest=digest.digest)
            for digest in found.tables
        }

    def _cut(self, action: str, exc: httpx.TransportError) -> ProvisioningError:
        return ProvisioningError(
            f"the data plane at {self.base_url} could not {action}: "
            f"the connection failed ({type(exc).__name__})"
        )

    async def tenant_count(self) -> int:
        response = await self._send("GET", "/capacity", action="read its capacity")
        return self._parsed(response, CapacityOut, "read its capacity").tenants

    async def _send(
        self,
        method: str,
        path: str,
        *,
        action: str,
        json: Any = None,
        accept: Collection[int] = (),
    ) -> httpx.Response:
        started = time.monotonic()
        tries = 0
        while True:
            tries += 1
            try:
                return await self._send_once(method, path, action=action, json=json, accept=accept)
            except _Retryable as failure:
                wait = self._retry.delay(tries - 1, failure.retry_after)
                elapsed = time.monotonic() - started
                if tries >= self._retry.attempts or elapsed + wait > self._retry.max_total_wait:
                    raise ProvisioningError(
                        f"the data plane at {self.base_url} could not {action}: "
                        f"{failure.failure}, still after {tries} "
                        f"attempt{'s' if tries > 1 else ''} in {elapsed:.1f} s"
                    ) from None
                log.warning(
                    "remote_plane.retrying",
                    plane=self.base_url,
                    action=action,
                    failure=failure.failure,
                    attempt=tries,
                    wait_seconds=round(wait, 3),
                )
                await asyncio.sleep(wait)

    async def _send_once(
        self, method: str, path: str, *, action: str, json: Any, accept: Collection[int]
    ) -> httpx.Response:
        try:
            response = await self._client.request(method, MANAGE + path, json=json)
        except httpx.TransportError as exc:
            raise _Retryable(f"no answer ({type(exc).__name__})") from None
        if response.is_success or response.status_code in accept:
            return response
        if response.status_code in RETRIED_STATUSES:
            _, text = self._error_of(response)
            raise _Retryable(
                f"HTTP {response.status_code} ({text})",
                retry_after_seconds(response.headers.get("retry-after")),
            )
        raise self._refusal(response, action)

    def _refusal(self, response: httpx.Response, action: str) -> PlaneRefusal:
        code, text = self._error_of(response)
        if response.status_code == 401:
            message = f"the data plane at {self.base_url} did not accept the management token"
        else:
            message = f"the data plane at {self.base_url} refused to {action}"
        return PlaneRefusal(
            f"{message} (HTTP {response.status_code}): {text}",
            response_status=response.status_code,
            plane_code=code,
        )

    def _error_of(self, response: httpx.Response) -> tuple[str | None, str]:
        """The plane's ``{"error": {"code", "message"}}``, else the start of the body."""
        code, text = None, ""
        try:
            error = response.json().get("error")
            code, text = str(error["code"]), str(error["message"])
        except (ValueError, AttributeError, KeyError, TypeError):
            text = response.text
        text = " ".join(text.split())[:300] or response.reason_phrase or "no reason given"
        return code, text.replace(self._token, "[token]")

    def _parsed(self, response: httpx.Response, model: type[M], action: str) -> M:
        try:
            return model.model_validate_json(response.content)
        except ValidationError:
            raise ProvisioningError(
                f"the data plane at {self.base_url} answered what it was asked to {action} "
                "with a body it should not have sent"
            ) from None


def _segment(value: str) -> str:
    """One path segment: a caller's prefix cannot reach another path."""
    return quote(value, safe="")


def _json(body: TenantBody | LimitsBody) -> dict[str, Any]:
    return body.model_dump(mode="json")

"""Requests to the Fly.io Machines API: the token in a header, bounded retries, clear refusals.

Rate limits (429, honouring ``Retry-After``), server errors (5xx) and requests that got no
answer are tried again with exponential back-off, within a number of attempts and a total time;
any other 4xx becomes a ``FlyRefusal`` saying what Fly.io refused and why. Neither errors nor
logs ever hold the token or a request body (secret values travel in bodies).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import structlog

from webhost.control.providers.retries import RetryPolicy, retry_after_seconds
from webhost.errors import ConfigurationError, ProvisioningError

log = structlog.get_logger(__name__)

T = TypeVar("T")

RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
# what Fly.io's error body says when an app name is in use (ErrorResponse.status)
NAME_TAKEN = "name_taken"
LEGACY_NAME_TAKEN_TEXT = "has already been taken"


# Fly's Machines API answers slowly while machines change: a longer budget than the default
FLY_RETRIES = RetryPolicy(attempts=6, first_delay=0.5, max_delay=10.0, max_total_wait=90.0)


class FlyRefusal(ProvisioningError):
    """Fly.io answered with a status no retry changes; ``fly_status`` is its error code, if any."""

    def __init__(self, message: str, *, response_status: int, fly_status: str | None) -> None:
        super().__init__(message)
        self.response_status = response_status
        self.fly_status = fly_status

    @property
    def name_taken(self) -> bool:
        return self.response_status in (409, 422) and (
            self.fly_status == NAME_TAKEN or LEGACY_NAME_TAKEN_TEXT in self.message
        )


class RetryableFailure(Exception):
    """One attempt failed in a way a later attempt may not (rate limit, 5xx, no answer)."""

    def __init__(self, failure: str, retry_after: float | None = None) -> None:
        super().__init__(failure)
        self.failure = failure
        self.retry_after = retry_after


def segment(value: str) -> str:
    """One path segment: ids from callers cannot reach another path."""
    return quote(value, safe="")


def authorization_value(api_token: str) -> str:
    """Macaroon tokens (``fly tokens create``) carry their own scheme; others are bearer tokens."""
    return api_token if api_token.startswith("FlyV1 ") else f"Bearer {api_token}"


def retry_after_of(response: httpx.Response) -> float | None:
    return retry_after_seconds(response.headers.get("retry-after"))


class FlyTransport:
    """One connection pool to the Machines API for one token."""

    def __init__(
        self, api_token: str, api_base: str, *, retry: RetryPolicy, request_timeout: float
    ) -> None:
        token = api_token.strip()
        if not token:
            raise ConfigurationError("the Fly.io API token is empty")
        if not token.isascii() or not token.isprintable():
            raise ConfigurationError("the Fly.io API token holds characters a header cannot carry")
        self._token = token
        self._retry = retry
        self._client = httpx.AsyncClient(
            base_url=api_base.rstrip("/"),
            headers={"Authorization": authorization_value(token), "Accept": "application/json"},
            timeout=request_timeout,
            follow_redirects=False,
            trust_env=False,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(
        self,
        method: str,
        path: str,
        *,
        action: str,
        json: Any = None,
        params: Mapping[str, str | int] | None = None,
        accept: Collection[int] = (),
        read_timeout: float | None = None,
    ) -> httpx.Response:
        """Send until Fly.io answers with success or a status in ``accept`` (returned), refuses
        (``FlyRefusal``), or the retry policy runs out (``ProvisioningError``)."""

        async def attempt() -> httpx.Response:
            return await self.send_once(
                method,
                path,
                action=action,
                json=json,
                params=params,
                accept=accept,
                read_timeout=read_timeout,
            )

        return await self.retrying(attempt, action=action)

    async def send_once(
        self,
        method: str,
        path: str,
        *,
        action: str,
        json: Any = None,
        params: Mapping[str, str | int] | None = None,
        accept: Collection[int] = (),
        read_timeout: float | None = None,
    ) -> httpx.Response:
        """One try: a transient failure raises ``RetryableFailure``, for callers that must look
        again before repeating a create whose answer was lost."""
        try:
            response = await self._client.request(
                method,
                path,
                json=json,
                params=params,
                timeout=httpx.USE_CLIENT_DEFAULT if read_timeout is None else read_timeout,
            )
        except httpx.TransportError as exc:
            raise RetryableFailure(f"no answer ({type(exc).__name__})") from None
        if response.is_success or response.status_code in accept:
            return response
        if response.status_code in RETRIED_STATUSES:
            raise RetryableFailure(
                f"HTTP {response.status_code} ({self.error_text(response)})",
                retry_after_of(response),
            )
        raise self.refusal(response, action)

    async def retrying(self, attempt: Callable[[], Awaitable[T]], *, action: str) -> T:
        """Run ``attempt`` until it returns, raises anything but ``RetryableFailure``, or the
        policy's attempts or time budget run out."""
        started = time.monotonic()
        tries = 0
        while True:
            tries += 1
            try:
                return await attempt()
            except RetryableFailure as failure:
                wait = self._retry.backoff(tries - 1)
                if failure.retry_after is not None:
                    wait = max(wait, failure.retry_after)
                elapsed = time.monotonic() - started
                if tries >= self._retry.attempts or elapsed + wait > self._retry.max_total_wait:
                    raise ProvisioningError(
                        f"Fly.io could not {action}: {failure.failure}, still after {tries} "
                        f"attempt{'s' if tries > 1 else ''} in {elapsed:.1f} s"
                    ) from None
                log.warning(
                    "flyio.retrying",
                    action=action,
                    failure=failure.failure,
                    attempt=tries,
                    wait_seconds=round(wait, 3),
                )
                await asyncio.sleep(wait)

    def refusal(self, response: httpx.Response, action: str) -> FlyRefusal:
        fly_status = None
        try:
            body = response.json()
            if isinstance(body, dict) and isinstance(body.get("status"), str):
                fly_status = body["status"]
        except ValueError:
            pass
        reason = self.error_text(response)
        if response.status_code == 401:
            message = f"Fly.io did not accept the API token (HTTP 401) when asked to {action}"
        else:
            message = f"Fly.io refused to {action} (HTTP {response.status_code})"
        return FlyRefusal(
            f"{message}: {reason}", response_status=response.status_code, fly_status=fly_status
        )

    def error_text(self, response: httpx.Response) -> str:
        """Fly.io's ``{"error": ...}`` message, else the start of the body; never the token."""
        text = ""
        try:
            body = response.json()
            if isinstance(body, dict) and body.get("error"):
                text = str(body["error"])
        except ValueError:
            text = response.text
        text = " ".join(text.split())[:300] or response.reason_phrase or "no reason given"
        return text.replace(self._token, "[token]")

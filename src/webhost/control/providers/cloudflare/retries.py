"""Cloudflare calls retried through rate limits and server errors, within a bounded time.

A retry repeats a whole operation (read what is there, then change what differs), so an
attempt whose answer was lost is found done by the next one instead of being made twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import cloudflare

from webhost.control.providers.retries import RetryPolicy, retry_after_seconds
from webhost.errors import ProvisioningError

T = TypeVar("T")

_RETRIED = (
    cloudflare.RateLimitError,
    cloudflare.InternalServerError,
    cloudflare.APIConnectionError,
)
_REFUSED_CREDENTIALS = (401, 403)


async def with_retries(
    action: str, operation: Callable[[], Awaitable[T]], policy: RetryPolicy
) -> T:
    """Run ``operation`` until it succeeds; ``action`` completes "Cloudflare could not ..."."""
    waited = 0.0
    attempt = 1
    while True:
        try:
            return await operation()
        except _RETRIED as exc:
            failure: cloudflare.APIError = exc
        except cloudflare.APIStatusError as exc:
            raise refusal(action, exc) from None
        except cloudflare.APIError as exc:
            raise ProvisioningError(f"Cloudflare could not {action}: {describe(exc)}") from None
        asked = retry_after(failure)
        delay = policy.backoff(attempt - 1) if asked is None else asked
        if attempt >= policy.attempts:
            raise ProvisioningError(
                f"Cloudflare could not {action} in {attempt} attempts: {describe(failure)}"
            ) from None
        if waited + delay > policy.max_total_wait:
            raise ProvisioningError(
                f"Cloudflare could not {action}: {describe(failure)}; the next try would come "
                f"{delay:.0f} s later, past the {policy.max_total_wait:.0f} s allowed for it"
            ) from None
        await asyncio.sleep(delay)
        waited += delay
        attempt += 1


def refusal(action: str, exc: cloudflare.APIStatusError) -> ProvisioningError:
    if exc.status_code in _REFUSED_CREDENTIALS:
        return ProvisioningError(
            f"Cloudflare refused the API token when asked to {action} ({describe(exc)}); check "
            "that the token is valid and may edit DNS records of the zone"
        )
    return ProvisioningError(f"Cloudflare refused to {action}: {describe(exc)}")


def describe(exc: cloudflare.APIError) -> str:
    """Cloudflare's own error codes and messages (its bodies never echo the credentials)."""
    reasons = "; ".join(
        f"{error.message or 'no message'} ({error.code})"
        if error.code is not None
        else error.message or "no message"
        for error in exc.errors
    )
    if isinstance(exc, cloudflare.APIStatusError):
        return f"HTTP {exc.status_code}" + (f", {reasons}" if reasons else "")
    if isinstance(exc, cloudflare.APITimeoutError):
        return "the request timed out"
    if isinstance(exc, cloudflare.APIConnectionError):
        return "the API could not be reached"
    return reasons or "the answer could not be read"


def retry_after(exc: cloudflare.APIError) -> float | None:
    """Seconds the ``Retry-After`` header asks for (a number or an HTTP date), if any."""
    if not isinstance(exc, cloudflare.APIStatusError):
        return None
    return retry_after_seconds(exc.response.headers.get("retry-after"))

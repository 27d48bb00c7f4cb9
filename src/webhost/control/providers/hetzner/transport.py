"""How calls reach Hetzner Cloud: hcloud in a worker thread, one retry policy, clear refusals.

hcloud retries some answers itself (rate limits, 502/504, conflicts) with fixed sleeps from 1 s
up to a minute and without looking at ``Retry-After``; it also drops the HTTP status and headers
when it raises. So an adapter on hcloud's own HTTP session turns every answer worth retrying
into ``TransientAnswer`` before hcloud parses it; hcloud lets that exception through, and
``HetznerCalls.run`` retries the whole (idempotent) operation on the event loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, TypeVar

import requests
import structlog
from hcloud import APIException, Client
from requests.adapters import HTTPAdapter

from webhost.control.providers.hetzner.resources import ActionState, action_from
from webhost.control.providers.retries import RetryPolicy, retry_after_seconds
from webhost.errors import ProvisioningError

log = structlog.get_logger(__name__)

T = TypeVar("T")

DEFAULT_API_ENDPOINT = "https://api.hetzner.cloud/v1"
# another action holds the resource, or it changed under the request: both clear up by waiting
_TRANSIENT_CODES = frozenset({"conflict", "locked", "rate_limit_exceeded"})


# Hetzner's rate limit refills slowly: waits of up to 30 s, two minutes in all
HETZNER_RETRIES = RetryPolicy(attempts=6, first_delay=1.0, max_delay=30.0, max_total_wait=120.0)


class TransientAnswer(Exception):
    """Hetzner Cloud asked to come back later, or did not answer at all."""

    def __init__(self, description: str, retry_after: float | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.retry_after = retry_after


def _retry_after(response: requests.Response) -> float | None:
    """Hetzner's own ``RateLimit-Reset`` is when the whole budget has refilled, not when the
    next request may go, so without ``Retry-After`` the back-off decides."""
    return retry_after_seconds(response.headers.get("Retry-After"))


def _error_of(response: requests.Response) -> tuple[str, str]:
    try:
        error = response.json()["error"]
        return str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        return "", response.reason or ""


class _TransientAnswers(HTTPAdapter):
    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        try:
            response = super().send(request, *args, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransientAnswer(f"no answer ({type(exc).__name__})") from None
        transient = response.status_code == 429 or response.status_code >= 500
        code, message = _error_of(response) if response.status_code >= 400 else ("", "")
        if transient or code in _TRANSIENT_CODES:
            response.close()
            described = " ".join(part for part in (str(response.status_code), code) if part)
            raise TransientAnswer(f"{described}: {message}", _retry_after(response))
        return response


def _fields(details: Any) -> str:
    """Hetzner's per-field validation messages, as one line."""
    fields = details.get("fields") if isinstance(details, dict) else None
    if not isinstance(fields, list):
        return ""
    parts = [
        f"{field.get('name')}: {', '.join(map(str, field.get('messages') or []))}"
        for field in fields
        if isinstance(field, dict)
    ]
    return f" [{'; '.join(parts)}]" if parts else ""


def refusal(what: str, exc: APIException) -> str:
    answer = f"({exc.code}: {exc.message}{_fields(exc.details)})"
    if exc.code == "unauthorized":
        return f"Hetzner Cloud did not accept the API token while {what} {answer}"
    if exc.code in ("forbidden", "token_readonly"):
        return f"the Hetzner Cloud API token lacks the permission for {what} {answer}"
    return f"Hetzner Cloud refused {what} {answer}"


class HetznerCalls:
    """One hcloud client, used from worker threads, with retries and errors made ours."""

    def __init__(
        self,
        api_token: str,
        *,
        api_endpoint: str,
        retry: RetryPolicy,
        request_timeout_seconds: float,
        action_poll_seconds: float,
        action_timeout_seconds: float,
    ) -> None:
        self._token = api_token
        self._retry = retry
        self._action_poll_seconds = action_poll_seconds
        self._action_timeout_seconds = action_timeout_seconds
        self.client = Client(
            token=api_token,
            api_endpoint=api_endpoint.rstrip("/"),
            application_name="webhost",
            timeout=request_timeout_seconds,
        )
        # hcloud offers no hook for its HTTP session; this is the one its resource clients use
        session = self.client._client._session
        adapter = _TransientAnswers()
        session.mount("https://", adapter)
        session.mount("http://", adapter)

    def _redacted(self, message: str) -> str:
        return message.replace(self._token, "[token]") if self._token else message

    async def run(self, what: str, operation: Callable[[], T]) -> T:
        """Run a blocking hcloud operation in a thread; ``operation`` must be idempotent (it
        reads before it writes), since a retry runs all of it again."""
        started = time.monotonic()
        attempt = 1
        while True:
            try:
                return await asyncio.to_thread(operation)
            except TransientAnswer as answer:
                delay = self._retry.delay(attempt - 1, answer.retry_after)
                spent = time.monotonic() - started
                if attempt >= self._retry.attempts or spent + delay > self._retry.max_total_wait:
                    message = (
                        f"Hetzner Cloud kept failing while {what}: {answer.description} "
                        f"(gave up after {attempt} attempts in {spent:.1f} s)"
                    )
                    raise ProvisioningError(self._redacted(message)) from None
                log.warning(
                    "hetzner_retry",
                    what=what,
                    answer=self._redacted(answer.description),
                    attempt=attempt,
                    delay_seconds=round(delay, 3),
                )
                await asyncio.sleep(delay)
                attempt += 1
            except APIException as exc:
                raise ProvisioningError(self._redacted(refusal(what, exc))) from None
            except requests.RequestException as exc:
                message = f"could not call Hetzner Cloud while {what}: {exc}"
                raise ProvisioningError(self._redacted(message)) from None

    def _read_action(self, action_id: int) -> ActionState:
        return action_from(self.client.actions.get_by_id(action_id))

    async def wait(self, actions: Sequence[ActionState], what: str) -> None:
        """Poll each action until it has finished; one that failed raises ProvisioningError."""
        deadline = time.monotonic() + self._action_timeout_seconds
        for action in actions:
            state = action
            while state.status == "running":
                if time.monotonic() >= deadline:
                    raise ProvisioningError(
                        f"Hetzner Cloud did not finish {what} within "
                        f"{self._action_timeout_seconds:g} s ({state.command} is still running)"
                    )
                await asyncio.sleep(self._action_poll_seconds)
                state = await self.run(what, partial(self._read_action, state.id))
            if state.status == "error":
                message = f"Hetzner Cloud could not finish {what}: {state.command} failed"
                raise ProvisioningError(self._redacted(f"{message} ({state.error})"))


def unless_gone(call: Callable[[], T]) -> T | None:
    """``call()``, or None when Hetzner says the resource is not there (already deleted)."""
    try:
        return call()
    except APIException as exc:
        if exc.code == "not_found":
            return None
        raise


class ProjectOperations:
    """What each group of operations on one project shares (see ``cloud.HetznerCloud``)."""

    _calls: HetznerCalls
    location: str
    server_type: str
    image: str

    @property
    def _hcloud(self) -> Client:
        return self._calls.client

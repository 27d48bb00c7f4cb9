"""The HTTP side of the fake Stripe API: routing, API keys, idempotency keys, form bodies,
error bodies, and failures a test asks for. Every request is recorded for tests to inspect."""

from __future__ import annotations

import json
import re
from collections import deque
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.fakes import stripe_endpoints as endpoints
from tests.support.fakes.stripe_account import StripeAccount
from tests.support.fakes.stripe_endpoints import Endpoint
from tests.support.fakes.stripe_forms import Params, StripeFailure, invalid, parse_form
from tests.support.fakes.stripe_objects import new_id

_ID = r"(?P<id>[A-Za-z0-9_]+)"
ROUTES: list[tuple[str, re.Pattern[str], Endpoint]] = [
    ("POST", re.compile(r"/v1/customers"), endpoints.create_customer),
    ("POST", re.compile(r"/v1/checkout/sessions"), endpoints.create_checkout_session),
    ("GET", re.compile(rf"/v1/checkout/sessions/{_ID}"), endpoints.retrieve_checkout_session),
    ("POST", re.compile(r"/v1/billing_portal/sessions"), endpoints.create_portal_session),
    ("GET", re.compile(rf"/v1/subscriptions/{_ID}"), endpoints.retrieve_subscription),
    ("POST", re.compile(rf"/v1/subscriptions/{_ID}"), endpoints.update_subscription),
    ("GET", re.compile(rf"/v1/prices/{_ID}"), endpoints.retrieve_price),
]
IDEMPOTENCY_KEY_LENGTH = 255
FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"

_FAILURE_BODIES = {
    409: ("invalid_request_error", "lock_timeout", "This object cannot be accessed right now "
          "because another API request or Stripe process is currently accessing it."),
    429: ("invalid_request_error", "rate_limit", "Too many requests hit the API too quickly. "
          "We recommend an exponential backoff of your requests."),
}  # fmt: skip


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    params: Params
    headers: dict[str, str]  # names in lower case
    status: int
    replayed: bool  # answered from the idempotency store

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")


@dataclass
class _Saved:
    request: tuple[str, str, Params]
    status: int
    body: bytes


@dataclass
class StripeServer:
    account: StripeAccount
    requests: list[RecordedRequest] = field(default_factory=list)
    _failures: deque[tuple[int, bool | None]] = field(default_factory=deque)
    _saved: dict[str, _Saved] = field(default_factory=dict)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self._handle, methods=["GET", "POST"])])

    def fail_next(self, status: int, *, times: int = 1, should_retry: bool | None = None) -> None:
        """Answer the next ``times`` requests with ``status`` before doing anything (a 409 lock
        timeout, a 429 rate limit, a 5xx outage); ``should_retry`` sets Stripe-Should-Retry."""
        with self.account.lock:
            self._failures.extend([(status, should_retry)] * times)

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        headers = {name.lower(): value for name, value in request.headers.items()}
        with self.account.lock:
            return self._answer(request.method, request.url.path, request.url.query, headers, body)

    def _answer(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> Response:
        params: Params = {}
        replayed = False
        extra_headers: dict[str, str] = {}
        try:
            self._injected_failure()
            self._authenticate(headers.get("authorization", ""))
            endpoint, object_id = _route(method, path)
            params = _params(method, query, headers.get("content-type", ""), body)
            key = headers.get("idempotency-key") if method == "POST" else None
            saved = self._saved_answer(key, (method, path, params))
            if saved is not None:
                status, payload, replayed = saved.status, saved.body, True
                extra_headers["Idempotent-Replayed"] = "true"
            else:
                status, payload = (
                    200,
                    json.dumps(endpoint(self.account, params, object_id)).encode(),
                )
                # Stripe keeps the answer once an endpoint has run; refused parameters are not kept
                if key is not None:
                    self._saved[key] = _Saved((method, path, params), status, payload)
        except StripeFailure as failure:
            status, payload = failure.status, json.dumps(failure.body()).encode()
            extra_headers.update(failure.headers)
        self.requests.append(RecordedRequest(method, path, params, headers, status, replayed))
        return Response(
            payload,
            status_code=status,
            media_type="application/json",
            headers={
                "Request-Id": new_id("req_", 14),
                "Stripe-Version": headers.get("stripe-version", self.account.api_version),
                **extra_headers,
            },
        )

    def _injected_failure(self) -> None:
        if not self._failures:
            return
        status, should_retry = self._failures.popleft()
        error_type, code, message = _FAILURE_BODIES.get(
            status, ("api_error", None, "Something went wrong on Stripe's end.")
        )
        headers = {} if should_retry is None else {"Stripe-Should-Retry": str(should_retry).lower()}
        raise StripeFailure(status, message, error_type=error_type, code=code, headers=headers)

    def _authenticate(self, authorization: str) -> None:
        scheme, _, api_key = authorization.partition(" ")
        if scheme != "Bearer" or not api_key:
            raise StripeFailure(
                401,
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY').",
            )
        if api_key != self.account.secret_key:
            raise StripeFailure(401, f"Invalid API Key provided: {_masked(api_key)}")

    def _saved_answer(self, key: str | None, request: tuple[str, str, Params]) -> _Saved | None:
        if key is None:
            return None
        if len(key) > IDEMPOTENCY_KEY_LENGTH:
            raise invalid(
                f"Invalid Idempotency-Key: must be at most {IDEMPOTENCY_KEY_LENGTH} characters"
            )
        saved = self._saved.get(key)
        if saved is not None and saved.request != request:
            raise StripeFailure(
                400,
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request.",
                error_type="idempotency_error",
            )
        return saved


def _route(method: str, path: str) -> tuple[Endpoint, str]:
    for route_method, pattern, endpoint in ROUTES:
        match = pattern.fullmatch(path)
        if match is not None and route_method == method:
            return endpoint, match.groupdict().get("id", "")
    raise StripeFailure(
        404,
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we "
        "can help at https://support.stripe.com/.",
    )


def _params(method: str, query: str, content_type: str, body: bytes) -> Params:
    if method == "POST" and body:
        if content_type.partition(";")[0].strip().lower() != FORM_MEDIA_TYPE:
            raise invalid(f"Invalid request: send the parameters as {FORM_MEDIA_TYPE}")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise invalid("Invalid request: the body is not UTF-8") from None
    else:
        text = query
    params = parse_form(text)
    if "expand" in params:
        raise invalid("This fake Stripe does not expand objects", "expand")
    return params


def _masked(api_key: str) -> str:
    """As Stripe quotes a wrong key: its prefix and last four characters."""
    prefix = api_key[:8] if api_key.startswith(("sk_", "rk_", "pk_")) else ""
    shown = api_key[-4:] if len(api_key) > len(prefix) + 8 else ""
    return prefix + "*" * (len(api_key) - len(prefix) - len(shown)) + shown

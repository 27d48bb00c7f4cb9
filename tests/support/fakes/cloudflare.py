"""A fake of Cloudflare's v4 API: the DNS records of one zone, as the official client calls them.

Shapes follow Cloudflare's API reference (DNS > Records): every answer is the envelope
``{success, errors: [{code, message}], messages, result}``, lists add ``result_info`` and are
paged by number (the client asks for the next page until one comes back empty), tokens come as
``Authorization: Bearer``, and refusals carry Cloudflare's error codes.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support.fakes.cloudflare_origin_ca import OriginCA
from tests.support.fakes.cloudflare_zone import CloudflareRefusal, CloudflareZone
from tests.support.servers import ServedApp

API_PREFIX = "/client/v4"


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str  # below /client/v4
    query: Mapping[str, str]
    status: int
    arrived_at: float  # time.monotonic()


@dataclass
class Fault:
    method: str
    path: str  # "*" stands for any one path segment
    status: int
    remaining: int
    retry_after: str | None
    after_applying: bool  # the request takes effect, only its answer is lost

    def matches(self, method: str, path: str) -> bool:
        return self.remaining > 0 and method == self.method and path_matches(self.path, path)


def path_matches(pattern: str, path: str) -> bool:
    wanted, actual = pattern.strip("/").split("/"), path.strip("/").split("/")
    return len(wanted) == len(actual) and all(
        w in ("*", a) for w, a in zip(wanted, actual, strict=True)
    )


class FakeCloudflare:
    def __init__(self, *, token: str, zone_name: str, max_per_page: int = 5_000_000) -> None:
        self.token = token
        self.zone = CloudflareZone(zone_name, max_per_page=max_per_page)
        self.origin_ca = OriginCA(zone_name)
        self.url = ""  # the API base, set once served
        self._log: list[LoggedRequest] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[
                Route(
                    API_PREFIX + "/{path:path}",
                    self._handle,
                    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                )
            ]
        )

    # -- for tests -------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        path: str,
        status: int,
        *,
        times: int = 1,
        retry_after: str | None = None,
        after_applying: bool = False,
    ) -> None:
        """The next ``times`` requests matching ``method`` and ``path`` get ``status``, before
        anything happens or, with ``after_applying``, once the request has taken effect."""
        with self._lock:
            self._faults.append(Fault(method, path, status, times, retry_after, after_applying))

    def add_record(
        self, name: str, type: str, content: str, *, comment: str | None = None, ttl: int = 1
    ) -> str:
        """A record made outside the client under test; returns its id."""
        with self._lock:
            return self.zone.add(name, type, content, comment=comment, ttl=ttl)

    def records(self, name: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            records = self.zone.records.values()
            return [dict(r) for r in records if name is None or r["name"] == name]

    def cname_targets(self, name: str) -> list[str]:
        """What a resolver of ``name`` would be pointed to (the targets of its CNAMEs)."""
        return [r["content"] for r in self.records(name) if r["type"] == "CNAME"]

    def requests(self, method: str | None = None, path: str | None = None) -> list[LoggedRequest]:
        """The requests received so far, oldest first; ``path`` may hold "*" segments."""
        with self._lock:
            log = list(self._log)
        return [
            r
            for r in log
            if (method is None or r.method == method)
            and (path is None or path_matches(path, r.path))
        ]

    # -- the API ---------------------------------------------------------------------------

    async def _handle(self, request: Request) -> JSONResponse:
        arrived_at = time.monotonic()
        path = "/" + request.path_params["path"]
        body = await request.body()
        with self._lock:
            response = self._answer(request, path, body)
            self._log.append(
                LoggedRequest(
                    request.method,
                    path,
                    dict(request.query_params),
                    response.status_code,
                    arrived_at,
                )
            )
        return response

    def _answer(self, request: Request, path: str, body: bytes) -> JSONResponse:
        fault = next((f for f in self._faults if f.matches(request.method, path)), None)
        if fault is not None:
            fault.remaining -= 1
            if not fault.after_applying:
                return self._fault_response(fault)
        try:
            self._authenticate(request.headers.get("authorization"))
            result, result_info = self._route(request.method, path, request.query_params, body)
        except CloudflareRefusal as refusal:
            return envelope(refusal.status, None, errors=[refusal.error])
        if fault is not None:
            return self._fault_response(fault)
        return envelope(200, result, result_info=result_info)

    def _fault_response(self, fault: Fault) -> JSONResponse:
        if fault.status == 429:
            error = {
                "code": 971,
                "message": "Please wait and consider throttling your request speed",
            }
        else:
            error = {"code": fault.status, "message": HTTPStatus(fault.status).phrase}
        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else None
        return envelope(fault.status, None, errors=[error], headers=headers)

    def _authenticate(self, authorization: str | None) -> None:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme != "Bearer" or not token:
            raise CloudflareRefusal(
                400,
                6003,
                "Invalid request headers",
                error_chain=[{"code": 6111, "message": "Invalid format for Authorization header"}],
            )
        if token != self.token:
            raise CloudflareRefusal(403, 10000, "Authentication error")

    def _route(
        self, method: str, path: str, query: Mapping[str, str], body: bytes
    ) -> tuple[Any, dict[str, int] | None]:
        certificates = re.fullmatch(r"/certificates(?:/([^/]+))?", path)
        if certificates is not None:
            found = _origin_ca_route(self, method, certificates.group(1), query, body)
            if isinstance(found, list):  # one page holds them all
                count = len(found)
                info = {"page": 1, "per_page": max(count, 1), "count": count}
                return found, info | {"total_count": count, "total_pages": 1}
            return found, None
        match = re.fullmatch(r"/zones/([^/]+)/dns_records(?:/([^/]+))?", path)
        if match is None:
            raise CloudflareRefusal(400, 7000, "No route for that URI")
        zone_id, record_id = match.groups()
        if zone_id != self.zone.id:
            # a token that may not see a zone is told no more than that
            raise CloudflareRefusal(403, 10000, "Authentication error")
        if record_id is None and method == "GET":
            return self.zone.list(query)
        if record_id is None and method == "POST":
            return self.zone.create(parse_json(body), self.zone.records), None
        if record_id == "batch" and method == "POST":
            return self.zone.batch(parse_json(body)), None
        if record_id is not None and method == "PUT":
            return self.zone.update(record_id, parse_json(body)), None
        if record_id is not None and method == "DELETE":
            return self.zone.delete(record_id), None
        raise CloudflareRefusal(405, 10405, f"Method {method} not allowed for this path")


def _origin_ca_route(
    fake: FakeCloudflare,
    method: str,
    certificate_id: str | None,
    query: Mapping[str, str],
    body: bytes,
) -> Any:
    if certificate_id is None and method == "POST":
        return fake.origin_ca.create(parse_json(body))
    if certificate_id is None and method == "GET":
        return fake.origin_ca.list(query, fake.zone.id)
    if certificate_id is not None and method == "DELETE":
        return fake.origin_ca.revoke(certificate_id)
    raise CloudflareRefusal(405, 10405, f"Method {method} not allowed for this path")


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        raise CloudflareRefusal(400, 6007, "Malformed JSON in request body") from None


def envelope(
    status: int,
    result: Any,
    *,
    errors: list[dict[str, Any]] | None = None,
    result_info: dict[str, int] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "success": not errors,
        "errors": errors or [],
        "messages": [],
        "result": result,
    }
    if result_info is not None:
        body["result_info"] = result_info
    return JSONResponse(body, status_code=status, headers=headers)


@contextmanager
def serve_fake_cloudflare(
    *, token: str, zone_name: str = "example.com", max_per_page: int = 5_000_000
) -> Iterator[FakeCloudflare]:
    fake = FakeCloudflare(token=token, zone_name=zone_name, max_per_page=max_per_page)

    async def build() -> Starlette:
        return fake.app

    served = ServedApp(build).start()
    fake.url = served.url + API_PREFIX
    try:
        yield fake
    finally:
        served.stop()

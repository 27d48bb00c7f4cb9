"""Drive the dashboard over HTTP the way a browser does: cookies, forms, htmx headers, SSE."""

from __future__ import annotations

import html
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.factories import PASSWORD, unique_email

_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
_FULL_KEY = re.compile(r'id="new-key-value"[^>]*>(whs_live_[A-Za-z0-9_]+)<')
_SSE_CONNECT = re.compile(r'sse-connect="(/dashboard/deployments/([0-9a-f-]{36})/events)"')
_DEPLOYMENT = re.compile(r'id="deployment-([0-9a-f-]{36})"')


def csrf_from(page: str) -> str:
    match = _CSRF_FIELD.search(page)
    assert match, "no CSRF field on the page"
    return match.group(1)


def text_of(page: str) -> str:
    """The page's text with tags removed and entities decoded, for readable assertions."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


@dataclass
class Event:
    event: str
    data: str


class DashboardUser:
    """One browser: its cookie jar persists across requests; redirects are not followed."""

    def __init__(self, control_url: str) -> None:
        self.client = httpx.Client(base_url=control_url, timeout=30)

    def __enter__(self) -> DashboardUser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def submit(self, form_page: str, action: str, fields: dict[str, str]) -> httpx.Response:
        """Load the page holding the form, then post it with the CSRF token it carries."""
        page = self.client.get(form_page)
        assert page.status_code == 200, page.text
        return self.client.post(action, data={"csrf_token": csrf_from(page.text), **fields})

    def htmx_post(
        self, path: str, fields: dict[str, str], *, csrf: str | None = None
    ) -> httpx.Response:
        """What htmx sends: the token in the header that <body hx-headers> sets."""
        headers = {"HX-Request": "true"}
        if csrf is not None:
            headers["X-CSRF-Token"] = csrf
        return self.client.post(path, data=fields, headers=headers)

    def sign_up(self, plan: str = "hobby", **fields: str) -> httpx.Response:
        values = {
            "email": unique_email(plan),
            "password": PASSWORD,
            "name": "Grace Hopper",
            "organization": f"Compilers {uuid.uuid4().hex[:6]}",
            "plan": plan,
        } | fields
        return self.submit(f"/signup?plan={plan}", "/signup", values)

    def dashboard(self) -> str:
        response = self.client.get("/dashboard")
        assert response.status_code == 200, response.text
        return response.text

    def deployment_id(self) -> str:
        match = _DEPLOYMENT.search(self.dashboard())
        assert match, "no deployment on the dashboard"
        return match.group(1)

    def create_key(self, name: str) -> tuple[httpx.Response, str | None]:
        """Create a key through the htmx form; returns the response and the full key shown."""
        page = self.dashboard()
        organization = re.search(r'name="organization_id" value="([^"]+)"', page)
        assert organization
        response = self.htmx_post(
            "/dashboard/keys",
            {"name": name, "organization_id": organization.group(1)},
            csrf=csrf_from(page),
        )
        match = _FULL_KEY.search(response.text)
        return response, match.group(1) if match else None

    @contextmanager
    def event_stream(self, path: str) -> Iterator[Iterator[Event]]:
        """Open the deployment's event stream as EventSource would."""
        with self.client.stream("GET", path, headers={"Accept": "text/event-stream"}) as stream:
            assert stream.status_code == 200, stream.read()
            assert stream.headers["content-type"].startswith("text/event-stream")
            yield _parse_events(stream.iter_lines())

    def events(self, path: str, *, until: str) -> list[Event]:
        with self.event_stream(path) as stream:
            return read_until(stream, until)


def _parse_events(lines: Iterator[str]) -> Iterator[Event]:
    name, data = "message", []
    for line in lines:
        if line.startswith(":"):
            yield Event("heartbeat", line)
        elif line.startswith("event:"):
            name = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            data.append(line.removeprefix("data:").removeprefix(" "))
        elif line == "" and data:
            yield Event(name, "\n".join(data))
            name, data = "message", []


def read_until(stream: Iterator[Event], name: str, deadline_seconds: float = 90) -> list[Event]:
    """Events up to and including the first one called ``name``, bounded by a deadline."""
    received: list[Event] = []
    deadline = time.monotonic() + deadline_seconds
    for event in stream:
        if event.event != "heartbeat":
            received.append(event)
        if event.event == name:
            return received
        assert time.monotonic() < deadline, f"no {name!r} event in time; got {received}"
    raise AssertionError(f"the stream ended before a {name!r} event: {received}")


def sse_path(page: str) -> str | None:
    match = _SSE_CONNECT.search(page)
    return match.group(1) if match else None


def status_in(fragment: str) -> str:
    match = re.search(r'data-status="([a-z]+)"', fragment)
    assert match, "no status badge"
    return match.group(1)

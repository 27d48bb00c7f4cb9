"""HTML responses of the dashboard: templates, security headers, errors shown as pages."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import structlog
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from webhost.control.dashboard.auth import LoginRequired
from webhost.control.dashboard.csrf import (
    CSRF_FIELD,
    CSRF_HEADER,
    csrf_token,
    store_presession_cookie,
)
from webhost.control.dashboard.views import FINAL_STATUSES, open_for_signup
from webhost.errors import RetryLater, WebHostError
from webhost.http.errors import describe_validation_errors

log = structlog.get_logger(__name__)

TEMPLATES = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
)
STATIC_DIRECTORY = Path(__file__).parent / "static"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    # pages carry per-account data and, once, a full API key
    "Cache-Control": "no-store",
}


def money(cents: int, currency: str = "usd") -> str:
    amount = f"{cents // 100}" if cents % 100 == 0 else f"{cents / 100:.2f}"
    return f"${amount}" if currency.lower() == "usd" else f"{amount} {currency.upper()}"


def limit(value: int | None) -> str:
    return "unlimited" if value is None else f"{value:,}"


def when(moment: datetime | None) -> str:
    return "—" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


TEMPLATES.env.filters["money"] = money
TEMPLATES.env.filters["limit"] = limit
TEMPLATES.env.filters["when"] = when
TEMPLATES.env.tests["final_status"] = lambda status: status in FINAL_STATUSES
TEMPLATES.env.tests["open_for_signup"] = open_for_signup
TEMPLATES.env.globals["CSRF_FIELD"] = CSRF_FIELD
TEMPLATES.env.globals["CSRF_HEADER"] = CSRF_HEADER


def problem_of(error: ValidationError | WebHostError) -> tuple[int, str, dict[str, str]]:
    """The status, one-line message and headers (Retry-After) of a rejected form submission."""
    if isinstance(error, WebHostError):
        return error.status_code, error.message, error.headers
    status_code, message, _ = describe_validation_errors(error.errors())
    return status_code, message, {}


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    response: HTMLResponse = TEMPLATES.TemplateResponse(
        request,
        template,
        {"csrf_token": csrf_token(request), **(context or {})},
        status_code=status_code,
        headers=headers,
    )
    store_presession_cookie(request, response)
    return response


def render_fragment(template: str, **context: Any) -> str:
    """A partial rendered outside a request, e.g. for a server-sent event."""
    return TEMPLATES.get_template(template).render(**context)


def redirect(request: Request, url: str) -> Response:
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def error_page(request: Request, status_code: int, message: str) -> Response:
    """htmx requests get the message in the page's flash area; others get a page."""
    if is_htmx(request):
        response = render(
            request, "partials/flash.html", {"message": message}, status_code=status_code
        )
        response.headers["HX-Retarget"] = "#flash"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    return render(
        request,
        "error.html",
        {"status_code": status_code, "message": message},
        status_code=status_code,
    )


def login_required(request: Request) -> Response:
    if "text/event-stream" in request.headers.get("accept", ""):
        return Response("log in first", status_code=401, media_type="text/plain")
    if is_htmx(request):
        return Response(status_code=401, headers={"HX-Redirect": "/login"})
    return RedirectResponse("/login", status_code=303)


class DashboardRoute(APIRoute):
    """Routes whose errors become HTML (pages or htmx fragments), never the JSON error body."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def render_errors(request: Request) -> Response:
            try:
                response = await handler(request)
            except LoginRequired:
                response = login_required(request)
            except WebHostError as error:
                if error.status_code >= 500 and not isinstance(error, RetryLater):
                    log.error(
                        "dashboard request failed", path=request.url.path, error=error.message
                    )
                response = error_page(request, error.status_code, error.message)
                response.headers.update(error.headers)
            except RequestValidationError as error:
                status_code, message, _ = describe_validation_errors(error.errors())
                response = error_page(request, status_code, message)
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return render_errors

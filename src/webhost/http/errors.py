"""Render every error as ``{"error": {"code", "message"}}`` with the right status."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from webhost.db.failures import storage_unavailable
from webhost.errors import RetryLater, WebHostError, error_body
from webhost.security.api_keys import redact_api_keys

log = structlog.get_logger(__name__)

STORAGE_RETRY_SECONDS = 2
STORAGE_UNAVAILABLE = "storage unavailable: nothing of this request was stored; send it again"
_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
}


def error_response(status: int, code: str, message: str, details: Any = None) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status)


def describe_validation_errors(errors: Sequence[Any]) -> tuple[int, str, list[dict[str, Any]]]:
    """Turn pydantic errors into (status, one-line message, details) naming each bad field."""
    details: list[dict[str, Any]] = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ()) if part != "body"]
        if error.get("type") == "json_invalid":
            reason = error.get("ctx", {}).get("error", "malformed JSON")
            return 400, f"request body is not valid JSON: {reason}", []
        details.append({"field": ".".join(location) or "body", "problem": error.get("msg", "")})
    message = "; ".join(f"{item['field']}: {item['problem']}" for item in details)
    return 422, message or "invalid request", details


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(WebHostError)
    async def _domain_error(request: Request, exc: WebHostError) -> JSONResponse:
        # shedding load is the server working as designed, not a failure to log
        if exc.status_code >= 500 and not isinstance(exc, RetryLater):
            log.error("request failed", path=redact_api_keys(request.url.path), error=exc.message)
        return JSONResponse(exc.to_body(), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        status, message, details = describe_validation_errors(exc.errors())
        return error_response(status, _STATUS_CODES[status], message, details or None)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        if isinstance(exc.__cause__, RecursionError):
            # FastAPI's body parser reached Python's recursion limit on a deeply nested body
            message = "request body nests objects and arrays too deeply to parse"
        if exc.status_code == 404 and message == "Not Found":
            message = f"no route for {request.method} {request.url.path}"
        response = error_response(exc.status_code, code, message)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    # handled here, not as unexpected: that handler answers, then closes the connection
    @app.exception_handler(SQLAlchemyError)
    @app.exception_handler(asyncpg.PostgresError)
    @app.exception_handler(asyncpg.InterfaceError)
    async def _database_error(request: Request, exc: Exception) -> JSONResponse:
        if not storage_unavailable(exc):
            raise exc
        # nothing of the request was stored: the client may send it again
        log.warning("storage unavailable", path=redact_api_keys(request.url.path))
        response = error_response(503, "busy", STORAGE_UNAVAILABLE)
        response.headers["Retry-After"] = str(STORAGE_RETRY_SECONDS)
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", path=redact_api_keys(request.url.path))
        return error_response(500, "internal_error", "internal server error")

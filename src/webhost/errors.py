"""The one error hierarchy: each domain error carries its HTTP status and a stable code."""

from __future__ import annotations

from typing import Any, ClassVar


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The one error body of both planes, over HTTP and WebSocket alike: clients parse this."""
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return {"error": error}


class WebHostError(Exception):
    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers the response carries besides the body."""
        return {}

    def to_body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.details)


class BadRequest(WebHostError):
    status_code = 400
    code = "bad_request"


class InvalidInput(WebHostError):
    status_code = 422
    code = "invalid_input"


class Unauthorized(WebHostError):
    status_code = 401
    code = "unauthorized"


class PaymentRequired(WebHostError):
    """The deployment is suspended until its bill is paid; its data is kept."""

    status_code = 402
    code = "deployment_suspended"


class Forbidden(WebHostError):
    status_code = 403
    code = "forbidden"


class VehicleLimitReached(Forbidden):
    """The tenant's plan allows no more vehicles."""

    code = "vehicle_limit_reached"


class NotFound(WebHostError):
    status_code = 404
    code = "not_found"


class Conflict(WebHostError):
    status_code = 409
    code = "conflict"


class IdsExhausted(Conflict):
    """An auto-increment collection has handed out its last id."""

    code = "ids_exhausted"


class PayloadTooLarge(WebHostError):
    """A request carries more items than one request may (bytes are the body limit's job)."""

    status_code = 413
    code = "payload_too_large"


class RetryLater(WebHostError):
    """Refused for now; ``Retry-After`` tells the client when to come back."""

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = max(1, retry_after_seconds)

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_seconds)}


class TooManyRequests(RetryLater):
    status_code = 429
    code = "rate_limited"


class ServiceBusy(RetryLater):
    status_code = 503
    code = "busy"


class ConfigurationError(WebHostError):
    """Raised at start-up when settings cannot work; the CLI prints it as one line."""

    code = "configuration_error"


class ProvisioningError(WebHostError):
    """A provider step failed; the message is shown to the customer, so it holds no secrets."""

    code = "provisioning_failed"

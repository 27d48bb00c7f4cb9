"""The client's one error hierarchy: what the platform refused, what never reached it, and what
the local API refuses before anything is written."""

from __future__ import annotations

from typing import Any


class WebHostClientError(Exception):
    """Every error the client raises."""


class ApiError(WebHostClientError):
    """The platform answered with an error: its status and its error body, as sent."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    @property
    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


class ServerUnreachable(WebHostClientError):
    """The request did not get an answer: no connection, a dropped one, or a timeout."""


class LocalInputError(WebHostClientError, ValueError):
    """Input the local API refuses: nothing was written to the replica or its outbox."""


class RecordNotFound(WebHostClientError, LookupError):
    """The replica holds no live record under this key."""

    def __init__(self, collection: str, key: object) -> None:
        shown = repr(key) if len(repr(key)) <= 100 else repr(key)[:100] + "..."
        super().__init__(f"no record {shown} in the replica of collection {collection!r}")
        self.collection = collection
        self.key = key


class ClientClosed(WebHostClientError):
    """The client was used outside ``async with`` or after it closed."""

"""Webhook bodies are trusted only once Stripe's library has checked their signature.

The library checks the HMAC; this module makes sure it only ever sees a well-formed header (it
fails on some malformed ones with errors of its own), applies the age limit against a clock
the caller can give, and checks that the body is an event before anyone reads it.
"""

from __future__ import annotations

import time
from typing import Any

import stripe

from webhost.errors import BadRequest, ConfigurationError, InvalidInput
from webhost.validation import load_json

SIGNATURE_HEADER = "Stripe-Signature"
# Stripe's own default: older signatures are refused as possible replays
DEFAULT_TOLERANCE_SECONDS = 300


def verify_event(
    payload: bytes,
    signature_header: str | None,
    secret: str,
    *,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> dict[str, Any]:
    """The event in ``payload`` once its ``Stripe-Signature`` header is proven; else BadRequest.

    ``secret`` is the endpoint's signing secret (``whsec_...``); ``now`` is Unix time.
    """
    if not secret.strip():
        raise ConfigurationError("no Stripe webhook signing secret is configured")
    if not signature_header:
        raise BadRequest(f"the {SIGNATURE_HEADER} header is missing")
    signed_at = _signed_at(signature_header)
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the webhook body is not UTF-8 text") from None
    try:
        # the age is checked below, against the caller's clock
        stripe.WebhookSignature.verify_header(text, signature_header, secret, tolerance=None)
    except stripe.SignatureVerificationError:
        raise BadRequest(
            f"the {SIGNATURE_HEADER} header does not match the body: "
            "it was signed with another secret, or the body was changed"
        ) from None
    age = (time.time() if now is None else now) - signed_at
    if age > tolerance_seconds:
        raise BadRequest(
            f"the webhook was signed {int(age)} seconds ago, more than the "
            f"{tolerance_seconds} seconds allowed; a replayed or long-delayed delivery"
        )
    return _event(text)


def _signed_at(header: str) -> int:
    """The header's timestamp, read as the library reads it: the first ``t`` field."""
    malformed = BadRequest(
        f"the {SIGNATURE_HEADER} header is malformed: expected t=<unix time>,v1=<signature>"
    )
    if not header.isascii():
        raise malformed
    fields = [field.split("=", 1) for field in header.split(",")]
    if any(len(field) != 2 or not field[0] for field in fields):
        raise malformed
    timestamps = [value for key, value in fields if key == "t"]
    if not timestamps or not timestamps[0].isdigit() or len(timestamps[0]) > 12:
        raise malformed
    if not any(key == stripe.WebhookSignature.EXPECTED_SCHEME for key, _ in fields):
        raise BadRequest(f"the {SIGNATURE_HEADER} header has no v1 signature")
    return int(timestamps[0])


def _event(text: str) -> dict[str, Any]:
    try:
        value = load_json(text, what="the webhook body")
    except ValueError as exc:
        raise BadRequest(f"the webhook body is not valid JSON: {exc}") from None
    except InvalidInput as exc:
        raise BadRequest(exc.message) from None
    if not isinstance(value, dict):
        raise BadRequest("the webhook body is not a Stripe event: it is not a JSON object")
    for field in ("id", "type"):
        if not isinstance(value.get(field), str) or not value[field]:
            raise BadRequest(f"the webhook body is not a Stripe event: it has no {field!r}")
    data = value.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise BadRequest("the webhook body is not a Stripe event: it has no 'data.object'")
    return value

"""Stripe's errors as the platform's: a clear message, the right status, never the secret key."""

from __future__ import annotations

import re

import stripe
import structlog

from webhost.control.billing.errors import BillingUnavailable, PaymentDeclined
from webhost.errors import BadRequest, Conflict, NotFound, WebHostError

log = structlog.get_logger(__name__)

# how long a customer is asked to wait when Stripe cannot take a request
RETRY_AFTER_SECONDS = 5
# Stripe API keys (secret, restricted; live or test), masked or not, as Stripe's messages quote them
_STRIPE_KEY = re.compile(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9*]*")


def billing_error(error: stripe.StripeError, *, secret_key: str) -> WebHostError:
    """The platform error for a failed Stripe call; its message may be shown to the customer."""
    stripe_message = scrub(error.user_message or "", secret_key)
    if isinstance(error, stripe.CardError):
        return PaymentDeclined(stripe_message or "the payment method was declined")
    if isinstance(error, stripe.IdempotencyError):
        return Conflict(
            f"Stripe refused a repeated request whose details changed: {stripe_message}"
        )
    if isinstance(error, stripe.InvalidRequestError):
        if error.http_status == 404:
            return NotFound(f"Stripe has no such object: {stripe_message}")
        details = {"param": error.param} if error.param else None
        return BadRequest(f"Stripe refused the request: {stripe_message}", details=details)
    return _unavailable(error)


def _unavailable(error: stripe.StripeError) -> BillingUnavailable:
    if isinstance(error, stripe.AuthenticationError):
        reason = "Stripe refused the platform's secret key"
    elif isinstance(error, stripe.PermissionError):
        reason = "the platform's Stripe key is not allowed to make this request"
    elif isinstance(error, stripe.RateLimitError):
        reason = "Stripe is rate limiting the platform"
    elif isinstance(error, stripe.APIConnectionError):
        reason = "Stripe could not be reached"
    else:
        reason = "Stripe could not complete the request"
    # the operator has to act on these; Stripe's own text is left out, as it quotes the key
    log.warning(
        "stripe call failed",
        reason=reason,
        error_type=type(error).__name__,
        http_status=error.http_status,
        stripe_request_id=error.request_id,
    )
    return BillingUnavailable(
        f"billing is unavailable for now: {reason}",
        retry_after_seconds=RETRY_AFTER_SECONDS,
    )


def scrub(text: str, secret_key: str) -> str:
    """``text`` without the secret key or anything shaped like a Stripe API key."""
    if secret_key:
        text = text.replace(secret_key, "[redacted]")
    return _STRIPE_KEY.sub("[redacted]", text)

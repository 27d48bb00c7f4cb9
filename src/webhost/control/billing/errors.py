"""Billing's own errors, in the one hierarchy of ``webhost.errors``."""

from __future__ import annotations

from webhost.errors import RetryLater, WebHostError


class BillingUnavailable(RetryLater):
    """Stripe cannot take the request now (unreachable, refusing our key, rate limiting us)."""

    status_code = 503
    code = "billing_unavailable"


class PaymentDeclined(WebHostError):
    """Stripe declined the customer's payment method; its message is written for the customer."""

    status_code = 402
    code = "payment_declined"

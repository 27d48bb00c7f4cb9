from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class WebhookOut(BaseModel):
    received: bool
    duplicate: bool


class BillingOut(BaseModel):
    plan: str
    status: str
    billed_through_stripe: bool
    checkout_url: str | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    grace_until: datetime | None
    suspended_at: datetime | None
    delete_after: datetime | None


class PortalOut(BaseModel):
    url: str

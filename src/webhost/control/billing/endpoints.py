"""Billing over HTTP: Stripe's webhook, and an organization's billing state and portal link."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request

from webhost.control.billing import events, service
from webhost.control.billing.schemas import BillingOut, PortalOut, WebhookOut
from webhost.control.billing.signatures import verify_event
from webhost.control.dependencies import AccountDep, PlatformDep, SessionDep
from webhost.errors import NotFound

router = APIRouter(prefix="/api/billing", tags=["billing"])


@router.post("/stripe/webhook", response_model=WebhookOut)
async def stripe_webhook(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    stripe_signature: Annotated[str | None, Header()] = None,
) -> WebhookOut:
    """Stripe's events, verified by signature and timestamp; each event id is applied once."""
    billing = platform.billing
    if billing is None:
        raise NotFound("billing through Stripe is not configured on this installation")
    payload = await request.body()
    event = verify_event(payload, stripe_signature, billing.webhook_secret)
    applied = await events.handle(session, billing.rules, event)
    return WebhookOut(received=True, duplicate=not applied)


@router.get("", response_model=BillingOut)
async def billing_state(session: SessionDep, account: AccountDep) -> BillingOut:
    """The caller's organization's subscription: status, grace period, paid period, deletion."""
    return await service.describe(session, account)


@router.post("/portal", response_model=PortalOut)
async def portal(session: SessionDep, account: AccountDep, platform: PlatformDep) -> PortalOut:
    """A Stripe customer portal link (payment methods, invoices, cancellation)."""
    billing = platform.billing
    if billing is None:
        raise NotFound("billing through Stripe is not configured on this installation")
    url = await service.portal_url(
        session, billing.api, account, return_url=f"{platform.settings.control_url}/dashboard"
    )
    return PortalOut(url=url)

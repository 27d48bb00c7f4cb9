"""Signup: a new customer's account, organization, subscription, deployment and session."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from webhost.control.accounts import service as accounts
from webhost.control.accounts.models import Account, Organization
from webhost.control.accounts.service import IssuedToken
from webhost.control.billing import service as billing
from webhost.control.billing.stripe_api import StripeApi
from webhost.control.deployments import service as deployments
from webhost.control.deployments.models import Deployment
from webhost.control.plans import service as plans
from webhost.control.signup.schemas import SignupIn
from webhost.security.passwords import Passwords


@dataclass(frozen=True)
class Signup:
    account: Account
    organization: Organization
    deployment: Deployment
    session: IssuedToken
    # where a paid plan's customer pays; its deployment is provisioned once Stripe confirms
    checkout_url: str | None = None


async def sign_up(
    session: AsyncSession,
    passwords: Passwords,
    request: SignupIn,
    *,
    provider: str,
    stripe: StripeApi | None = None,
    return_url: str = "",
) -> Signup:
    """All in the caller's transaction: a failed signup leaves no account and no queued job.
    With ``stripe``, a plan sold through Stripe starts at its Checkout, not provisioned yet."""
    plan = await plans.plan_for_signup(session, request.plan)
    account = await accounts.create_account(
        session, passwords, email=request.email, name=request.name, password=request.password
    )
    organization = await accounts.create_organization(
        session, name=request.organization, owner=account
    )
    paid = stripe is not None and billing.sold_through_stripe(plan, billing_enabled=True)
    if paid:
        assert stripe is not None
        subscription = await billing.start_paid_subscription(
            session, stripe, organization, plan, email=account.email, return_url=return_url
        )
    else:
        subscription = await billing.start_subscription(session, organization, plan)
    deployment = await deployments.create_deployment(
        session, organization=organization, plan=plan, provider=provider, awaiting_payment=paid
    )
    return Signup(
        account,
        organization,
        deployment,
        await accounts.issue_session(session, account),
        checkout_url=subscription.checkout_url,
    )

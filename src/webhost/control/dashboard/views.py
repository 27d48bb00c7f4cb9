"""What each dashboard page shows, assembled from the domain services."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from webhost.control.accounts import repository as accounts_repository
from webhost.control.accounts import service as accounts
from webhost.control.accounts.models import Account, Organization
from webhost.control.billing import service as billing
from webhost.control.billing.models import Subscription
from webhost.control.deployments import repository as deployments_repository
from webhost.control.deployments import reshape
from webhost.control.deployments import service as deployments
from webhost.control.deployments.models import DeploymentStatus
from webhost.control.deployments.schemas import DeploymentOut
from webhost.control.keys import service as keys
from webhost.control.keys.device_keys import device_key_for_member
from webhost.control.keys.models import ApiKey
from webhost.control.moves import service as moves
from webhost.control.moves.schemas import MoveOut
from webhost.control.plans import repository as plans_repository
from webhost.control.plans.models import DeploymentMode, Plan
from webhost.errors import BadRequest
from webhost.platform import Platform

FINAL_STATUSES = frozenset(
    {DeploymentStatus.ACTIVE, DeploymentStatus.FAILED, DeploymentStatus.DELETED}
)


STRIPE_DASHBOARD = "https://dashboard.stripe.com"


@dataclass(frozen=True)
class OrganizationPage:
    organization: Organization
    organizations: list[Organization]
    deployments: list[DeploymentOut]
    keys: list[ApiKey]
    subscription: Subscription | None = None
    # Stripe's customer portal can be offered (billing is on and the customer is in Stripe)
    portal: bool = False
    # plans a deployment may move to, as the plan change form offers them
    plans: tuple[Plan, ...] = ()

    def plans_for(self, deployment: DeploymentOut) -> list[Plan]:
        """The other open plans; one of the other mode moves the deployment's data."""
        return [p for p in self.plans if p.slug != deployment.plan]

    @property
    def active_deployments(self) -> list[DeploymentOut]:
        return [d for d in self.deployments if d.status == DeploymentStatus.ACTIVE]


@dataclass(frozen=True)
class OperatorRow:
    deployment: DeploymentOut
    organization_name: str
    subscription: Subscription | None = None
    # where its plane is reached now (the edge routes its stable URLs there)
    plane_url: str | None = None
    move: MoveOut | None = None
    # a plan change within its mode whose servers did not come in line: it can be retried
    reshape_failed: bool = False

    @property
    def stripe_links(self) -> list[tuple[str, str]]:
        """The customer and subscription in Stripe's dashboard."""
        links = []
        if self.subscription is not None and self.subscription.stripe_customer_id:
            customer = self.subscription.stripe_customer_id
            links.append(("customer", f"{STRIPE_DASHBOARD}/customers/{customer}"))
        if self.subscription is not None and self.subscription.stripe_subscription_id:
            subscription = self.subscription.stripe_subscription_id
            links.append(("subscription", f"{STRIPE_DASHBOARD}/subscriptions/{subscription}"))
        return links


@dataclass(frozen=True)
class OperatorPage:
    rows: list[OperatorRow]
    plans: list[Plan]


def parse_organization_id(value: str) -> uuid.UUID | None:
    """Forms and links name the organization; blank means the account's first one."""
    if not value.strip():
        return None
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        raise BadRequest(f"not an organization id: {value!r}") from None


async def public_plans(session: AsyncSession) -> list[Plan]:
    return await plans_repository.list_plans(session)


def open_for_signup(plan: Plan) -> bool:
    """Self-hosted plans are listed but have nothing to provision."""
    return plan.is_public and plan.mode != DeploymentMode.SELF_HOSTED


async def organization_page(
    session: AsyncSession, platform: Platform, account: Account, organization_id: uuid.UUID | None
) -> OrganizationPage | None:
    """The chosen organization (the first one by default); None when the account has none.
    Makes the organization's missing device key: callers commit."""
    organizations = await accounts.organizations_of(session, account)
    if organization_id is None and not organizations:
        return None
    organization = (
        organizations[0]
        if organization_id is None
        else await accounts.resolve_organization(session, account, organization_id)
    )
    device_key = await device_key_for_member(
        session, platform.key_courier, platform.secret_box, account, organization.id, create=True
    )
    return OrganizationPage(
        organization=organization,
        organizations=organizations,
        deployments=[
            await deployments.describe(session, deployment, device_key=device_key)
            for deployment in await deployments.live_deployments(session, organization.id)
        ],
        keys=await keys.list_keys(session, organization),
        subscription=(subscription := await billing.subscription_of(session, organization.id)),
        portal=platform.billing is not None
        and subscription is not None
        and subscription.stripe_customer_id is not None,
        plans=tuple(plan for plan in await public_plans(session) if open_for_signup(plan)),
    )


async def deployment_state(
    session: AsyncSession, platform: Platform, account: Account, deployment_id: uuid.UUID
) -> DeploymentOut:
    """Reads only (the event stream does not commit): no device key is made here."""
    deployment = await deployments.visible_deployment(session, account, deployment_id)
    device_key = await device_key_for_member(
        session,
        platform.key_courier,
        platform.secret_box,
        account,
        deployment.organization_id,
        create=False,
    )
    return await deployments.describe(session, deployment, device_key=device_key)


async def operator_page(session: AsyncSession) -> OperatorPage:
    rows: list[OperatorRow] = []
    names: dict[uuid.UUID, str] = {}
    for deployment in await deployments_repository.all_deployments(session):
        if deployment.organization_id not in names:
            organization = await accounts_repository.get_organization(
                session, deployment.organization_id
            )
            names[deployment.organization_id] = organization.name if organization else "(deleted)"
        rows.append(
            OperatorRow(
                deployment=await deployments.describe(session, deployment),
                organization_name=names[deployment.organization_id],
                subscription=await billing.subscription_of(session, deployment.organization_id),
                plane_url=deployment.plane_url,
                move=await moves.newest_move(session, deployment),
                reshape_failed=reshape.needs_retry(deployment),
            )
        )
    return OperatorPage(
        rows=rows, plans=await plans_repository.list_plans(session, include_hidden=True)
    )

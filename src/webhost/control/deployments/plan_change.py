"""A deployment moves to another plan of the same mode in place: limits and regions change,
its data and URLs stay; to a plan of the other mode, by a move (``control/moves/``). A
smaller plan that cannot hold what the deployment keeps is refused up front, saying what to
remove (or, for positions past the new retention, until the customer confirms they may go).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from webhost.control.billing import service as billing
from webhost.control.billing.stripe_api import StripeApi
from webhost.control.deployments import repository, reshape
from webhost.control.deployments import service as deployments
from webhost.control.deployments.models import Deployment, DeploymentStatus
from webhost.control.moves import service as moves
from webhost.control.plans import service as plans
from webhost.control.plans.models import Plan
from webhost.control.providers.registry import Providers
from webhost.control.provisioning.models import RunStatus
from webhost.data.tenancy.management import TenantHoldings
from webhost.db.after_commit import after_commit
from webhost.errors import Conflict


@dataclass(frozen=True)
class PlanChange:
    plan_slug: str
    # positions older than the new plan's retention may be dropped
    confirm_trim: bool = False


async def change_plan(
    session: AsyncSession,
    providers: Providers,
    stripe: StripeApi | None,
    deployment: Deployment,
    change: PlanChange,
    *,
    from_stripe: bool = False,
) -> Deployment:
    """``from_stripe``: Stripe already changed the subscription's price (its event says so)."""
    plan = await plans.plan_for_signup(session, change.plan_slug)
    locked = await repository.lock(session, deployment.id)
    if locked is None or locked.status != DeploymentStatus.ACTIVE:
        raise Conflict(f"deployment {deployment.id} is not active; its plan cannot change now")
    current = await repository.plan_of(session, locked.plan_id)
    if current.id == plan.id:
        raise Conflict(f"the deployment is already on the {plan.slug} plan")
    spec = await deployments.spec_of(session, locked)
    provider = providers.get(spec.provider)
    if (
        plan.mode == locked.mode
        and provider.primary_region_holds_data
        and plan.regions
        and locked.region not in plan.regions
    ):
        raise Conflict(
            f"the {plan.slug} plan does not run in {locked.region}, where this deployment's "
            f"data is ({', '.join(plan.regions)} only): a plan change cannot move it there"
        )
    await _check_fits(await provider.holdings(spec), plan, change)
    subscription = await billing.subscription_of(session, locked.organization_id)
    # Stripe first: a refusal there leaves the deployment as it was
    if (
        subscription is not None
        and stripe is not None
        and not from_stripe
        and subscription.stripe_subscription_id is not None
        and plan.stripe_price_id is not None
    ):
        await stripe.change_subscription_price(
            subscription.stripe_subscription_id, plan.stripe_price_id
        )
    if plan.mode != locked.mode:
        # to the other mode: a durable move, which changes the plan once the data is across
        settings = providers.context.settings
        await moves.start_move(session, settings, providers, locked, current, plan)
        if subscription is not None:
            await billing.change_plan(session, subscription, plan)
        return locked
    locked.plan_id = plan.id
    if plan.regions and locked.region not in plan.regions:
        locked.region = plan.regions[0]
    if subscription is not None:
        await billing.change_plan(session, subscription, plan)
    await session.flush()
    changed = await deployments.spec_of(session, locked)
    # the plane enforces the new limits once the change is committed
    after_commit(
        session,
        partial(providers.get(changed.provider).publish_limits, changed),
        name=f"limits {locked.id}",
    )
    # and what serves it follows the new plan's regions and sizes, while it serves on
    await reshape.queue_reshape(session, locked, plan.slug)
    return locked


async def _check_fits(holdings: TenantHoldings, plan: Plan, change: PlanChange) -> None:
    vehicles, oldest = holdings.vehicles, holdings.oldest_position
    if plan.vehicle_limit is not None and vehicles > plan.vehicle_limit:
        raise Conflict(
            f"the {plan.slug} plan allows {plan.vehicle_limit} vehicles and this deployment has "
            f"{vehicles}: delete {vehicles - plan.vehicle_limit} of them first"
        )
    cutoff = datetime.now(UTC) - timedelta(days=plan.retention_days)
    if oldest is not None and oldest < cutoff and not change.confirm_trim:
        raise Conflict(
            f"the {plan.slug} plan keeps {plan.retention_days} days of positions; positions "
            f"before {cutoff:%Y-%m-%d} (the oldest from {oldest:%Y-%m-%d}) would be dropped: "
            'send {"confirm_trim": true} to allow it'
        )


async def retry_move(
    session: AsyncSession, providers: Providers, stripe: StripeApi | None, deployment: Deployment
) -> Deployment:
    """The operator asks again for the plan change whose move was rolled back: a new move, with
    the same checks and the same Stripe update as the customer's request."""
    move = await moves.newest_move(session, deployment)
    if move is None or move.status not in (RunStatus.COMPENSATED, RunStatus.FAILED):
        raise Conflict(f"deployment {deployment.id} has no failed move to retry")
    current = await repository.plan_slug(session, deployment.plan_id)
    if current != move.from_plan:
        raise Conflict(
            f"the deployment is on the {current} plan, not {move.from_plan}: "
            "its failed move no longer applies"
        )
    return await change_plan(session, providers, stripe, deployment, PlanChange(move.to_plan))

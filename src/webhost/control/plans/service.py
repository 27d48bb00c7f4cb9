"""The plan catalog is data: the operator adds and edits plans; deployments keep their mode."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from webhost.control.deployments import service as deployments
from webhost.control.plans import repository
from webhost.control.plans.models import DeploymentMode, Plan
from webhost.control.plans.schemas import PlanFields, PlanPatch
from webhost.control.providers.registry import Providers
from webhost.errors import InvalidInput, NotFound

# plan fields the data planes enforce: a change is published to every active deployment
ENFORCED_LIMITS = (
    "yjs_document_max_bytes",
    "vehicle_limit",
    "gps_points_per_second",
    "retention_days",
)


async def require_plan(session: AsyncSession, slug: str) -> Plan:
    plan = await repository.get_by_slug(session, slug)
    if plan is None:
        known = ", ".join(p.slug for p in await repository.list_plans(session))
        raise NotFound(f"unknown plan {slug!r} (available: {known})")
    return plan


async def plan_for_signup(session: AsyncSession, slug: str) -> Plan:
    try:
        plan = await require_plan(session, slug)
    except NotFound as exc:
        raise InvalidInput(exc.message) from exc
    if not plan.is_public:
        raise InvalidInput(f"plan {slug!r} is not open for signup")
    if plan.mode == DeploymentMode.SELF_HOSTED:
        raise InvalidInput(f"plan {slug!r} is self-hosted: there is nothing to provision")
    return plan


async def put_plan(
    session: AsyncSession, providers: Providers, slug: str, fields: PlanFields
) -> tuple[Plan, bool]:
    """Create the plan or replace all its fields; True when created."""
    if fields.provider is not None:
        providers.check(fields.provider)
    plan = await repository.get_by_slug(session, slug)
    if plan is None:
        plan = Plan(slug=slug, **fields.model_dump())
        await repository.add(session, plan)
        return plan, True
    await _update(session, providers, plan, fields.model_dump())
    return plan, False


async def patch_plan(
    session: AsyncSession, providers: Providers, slug: str, patch: PlanPatch
) -> Plan:
    if patch.provider is not None:
        providers.check(patch.provider)
    plan = await require_plan(session, slug)
    await _update(session, providers, plan, patch.model_dump(exclude_unset=True))
    return plan


async def _update(
    session: AsyncSession, providers: Providers, plan: Plan, changes: dict[str, object]
) -> None:
    enforced_before = [getattr(plan, name) for name in ENFORCED_LIMITS]
    for name, value in changes.items():
        setattr(plan, name, value)
    await session.flush()
    if [getattr(plan, name) for name in ENFORCED_LIMITS] != enforced_before:
        for deployment in await deployments.active_on_plan(session, plan.id):
            spec = await deployments.spec_of(session, deployment)
            await providers.get(spec.provider).publish_limits(spec)

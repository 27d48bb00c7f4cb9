"""Deployments: created at signup, provisioned by a durable job, visible to their members."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from webhost.control.accounts import repository as accounts
from webhost.control.accounts.models import Account, Organization
from webhost.control.deployments import repository
from webhost.control.deployments.models import Deployment, DeploymentStatus
from webhost.control.deployments.schemas import DeploymentOut, RunOut, StepOut
from webhost.control.plans.models import Plan
from webhost.control.providers.base import DeploymentSpec
from webhost.control.provisioning import repository as provisioning
from webhost.control.provisioning.models import ProvisioningStep, StepStatus, Workflow, WorkflowRun
from webhost.data.tenancy.limits import TenantLimits
from webhost.data.tenancy.scope import tenant_name_for
from webhost.errors import Conflict, NotFound
from webhost.jobs import enqueue

PROVISIONING_QUEUE = "provisioning"
# where the data plane takes OsmAnd position reports (the Traccar Client app's protocol)
OSMAND_PATH = "/v1/fleet/osmand/"


async def create_deployment(
    session: AsyncSession,
    *,
    organization: Organization,
    plan: Plan,
    provider: str,
    awaiting_payment: bool = False,
) -> Deployment:
    """Record the deployment and queue its provisioning in the same transaction; it is made on
    the plan's provider, or on ``provider`` (the platform's default) when the plan names none.
    ``awaiting_payment``: nothing is queued until the first payment (``start_provisioning``)."""
    deployment_id = uuid.uuid4()
    deployment = await repository.add(
        session,
        Deployment(
            id=deployment_id,
            organization_id=organization.id,
            plan_id=plan.id,
            mode=plan.mode,
            provider=plan.provider or provider,
            region=plan.regions[0] if plan.regions else None,
            tenant_name=tenant_name_for(deployment_id),
            status=(
                DeploymentStatus.AWAITING_PAYMENT
                if awaiting_payment
                else DeploymentStatus.PROVISIONING
            ),
        ),
    )
    if not awaiting_payment:
        await queue_provisioning(session, deployment.id)
    return deployment


async def start_provisioning(session: AsyncSession, deployment: Deployment) -> None:
    """A deployment that waited for its first payment is provisioned from now."""
    locked = await repository.lock(session, deployment.id)
    if locked is None or locked.status != DeploymentStatus.AWAITING_PAYMENT:
        return
    locked.status = DeploymentStatus.PROVISIONING
    await queue_provisioning(session, locked.id)


async def queue_provisioning(session: AsyncSession, deployment_id: uuid.UUID) -> uuid.UUID:
    """Queue the deployment's running PROVISION run (a new one when none is running); returns
    its id. The job lock keeps two jobs of one deployment from overlapping."""
    run = await provisioning.open_run(session, deployment_id, Workflow.PROVISION)
    await enqueue(
        session,
        "provision_deployment",
        queue=PROVISIONING_QUEUE,
        lock=f"deployment:{deployment_id}",
        deployment_id=str(deployment_id),
        run_id=str(run.id),
    )
    return run.id


async def retry_provisioning(session: AsyncSession, deployment_id: uuid.UUID) -> Deployment:
    """Provision a failed deployment again, as a new run (the operator's retry)."""
    deployment = await repository.lock(session, deployment_id)
    if deployment is None:
        raise NotFound(f"deployment {deployment_id} not found")
    if deployment.status != DeploymentStatus.FAILED:
        raise Conflict(
            f"deployment {deployment_id} is {deployment.status.value}: only a failed one is retried"
        )
    deployment.status = DeploymentStatus.PROVISIONING
    deployment.error = None
    await queue_provisioning(session, deployment.id)
    return deployment


async def requeue_orphaned_provisioning(session: AsyncSession) -> list[uuid.UUID]:
    orphans = await repository.orphaned_provisioning(session)
    for deployment_id in orphans:
        await queue_provisioning(session, deployment_id)
    return orphans


async def visible_deployment(
    session: AsyncSession, account: Account, deployment_id: uuid.UUID
) -> Deployment:
    deployment = await repository.get(session, deployment_id)
    if deployment is None or (
        not account.is_operator
        and await accounts.membership(session, deployment.organization_id, account.id) is None
    ):
        raise NotFound(f"deployment {deployment_id} not found")
    return deployment


async def describe(
    session: AsyncSession, deployment: Deployment, *, device_key: str | None = None
) -> DeploymentOut:
    """``device_key``: the organization's device key in full, given only for its members;
    ``steps`` are those of the newest run."""
    run = await provisioning.newest_run(session, deployment.id)
    steps = await provisioning.steps_of(session, run.id) if run is not None else []
    active = deployment.status == DeploymentStatus.ACTIVE
    # a moving deployment's URLs keep working: requests wait out the switch
    reachable = active or deployment.status == DeploymentStatus.MIGRATING
    return DeploymentOut(
        id=deployment.id,
        organization_id=deployment.organization_id,
        plan=await repository.plan_slug(session, deployment.plan_id),
        mode=deployment.mode,
        provider=deployment.provider,
        region=deployment.region,
        status=deployment.status,
        api_url=deployment.api_url if reachable else None,
        sync_url=deployment.sync_url if reachable else None,
        osmand_url=(
            osmand_url(deployment.api_url, device_key)
            if active and deployment.api_url and device_key
            else None
        ),
        error=deployment.error,
        created_at=deployment.created_at,
        activated_at=deployment.activated_at,
        run=RunOut.model_validate(run) if run is not None else None,
        steps=[StepOut.model_validate(step) for step in steps],
        phase=_phase_of(deployment, run, steps),
        moving_to=(
            run.parameters.get("to_plan")
            if run is not None
            and run.workflow == Workflow.MIGRATE
            and deployment.status == DeploymentStatus.MIGRATING
            else None
        ),
    )


def _phase_of(
    deployment: Deployment, run: WorkflowRun | None, steps: list[ProvisioningStep]
) -> str | None:
    """The step a moving deployment's move is at (or waits to retry)."""
    if deployment.status != DeploymentStatus.MIGRATING or run is None:
        return None
    if run.workflow != Workflow.MIGRATE:
        return None
    unfinished = [step.name for step in steps if step.status != StepStatus.DONE]
    if unfinished:
        return unfinished[0]
    return "queued" if not steps else "switch"


def osmand_url(data_url: str, device_key: str) -> str:
    """What goes into the Traccar Client app's "Server URL" field."""
    return data_url.rstrip("/") + OSMAND_PATH + device_key


async def spec_of(
    session: AsyncSession, deployment: Deployment, plan: Plan | None = None
) -> DeploymentSpec:
    """What the provider needs to know; on ``plan`` (and its mode) when given: a move's end."""
    on_plan = plan is not None
    if plan is None:
        plan = await repository.plan_of(session, deployment.plan_id)
    region = deployment.region
    if on_plan and plan.regions and region not in plan.regions:
        region = plan.regions[0]
    return DeploymentSpec(
        id=deployment.id,
        organization_id=deployment.organization_id,
        tenant_name=deployment.tenant_name,
        mode=plan.mode if on_plan else deployment.mode,
        plan_slug=plan.slug,
        provider=deployment.provider,
        region=region,
        regions=_regions_from(region, plan.regions),
        limits=TenantLimits(
            yjs_document_max_bytes=plan.yjs_document_max_bytes,
            vehicle_limit=plan.vehicle_limit,
            gps_points_per_second=plan.gps_points_per_second,
            retention_days=plan.retention_days,
        ),
        resources=dict(plan.resources or {}),
    )


def _regions_from(primary: str | None, plan_regions: list[str]) -> tuple[str, ...]:
    if primary is None:
        return tuple(plan_regions)
    return (primary, *(region for region in plan_regions if region != primary))


async def active_on_plan(session: AsyncSession, plan_id: uuid.UUID) -> list[Deployment]:
    return await repository.active_on_plan(session, plan_id)


async def live_deployments(session: AsyncSession, organization_id: uuid.UUID) -> list[Deployment]:
    return await repository.for_organization(session, organization_id)

from __future__ import annotations

from fastapi import APIRouter, Path, Response, status

from webhost.control.dependencies import OperatorDep, PlatformDep, SessionDep
from webhost.control.plans import repository, service
from webhost.control.plans.schemas import SLUG_PATTERN, PlanFields, PlanOut, PlanPatch

router = APIRouter(prefix="/api/plans", tags=["plans"])


@router.get("", response_model=list[PlanOut])
async def list_plans(session: SessionDep) -> list[PlanOut]:
    return [PlanOut.model_validate(plan) for plan in await repository.list_plans(session)]


@router.get("/{slug}", response_model=PlanOut)
async def get_plan(slug: str, session: SessionDep) -> PlanOut:
    return PlanOut.model_validate(await service.require_plan(session, slug))


@router.put("/{slug}", response_model=PlanOut, tags=["operator"])
async def put_plan(
    fields: PlanFields,
    session: SessionDep,
    platform: PlatformDep,
    _operator: OperatorDep,
    response: Response,
    slug: str = Path(pattern=SLUG_PATTERN),
) -> PlanOut:
    """Create or replace a plan. Limits the data planes enforce reach its active deployments
    at once; connections and documents opened from then on get them."""
    plan, created = await service.put_plan(session, platform.providers, slug, fields)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return PlanOut.model_validate(plan)


@router.patch("/{slug}", response_model=PlanOut, tags=["operator"])
async def patch_plan(
    slug: str, patch: PlanPatch, session: SessionDep, platform: PlatformDep, _operator: OperatorDep
) -> PlanOut:
    plan = await service.patch_plan(session, platform.providers, slug, patch)
    return PlanOut.model_validate(plan)

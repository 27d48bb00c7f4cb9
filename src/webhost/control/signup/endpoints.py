from __future__ import annotations

from fastapi import APIRouter, status

from webhost.control.accounts.schemas import AccountOut, OrganizationOut
from webhost.control.dependencies import PlatformDep, SessionDep
from webhost.control.deployments import service as deployments
from webhost.control.signup import service
from webhost.control.signup.schemas import SignupIn, SignupOut

router = APIRouter(prefix="/api", tags=["accounts"])


@router.post("/signup", status_code=status.HTTP_201_CREATED, response_model=SignupOut)
async def signup(body: SignupIn, session: SessionDep, platform: PlatformDep) -> SignupOut:
    """Create an account and organization on a plan; its deployment starts provisioning."""
    created = await service.sign_up(
        session,
        platform.passwords,
        body,
        provider=platform.providers.default_name,
        stripe=platform.billing.api if platform.billing else None,
        return_url=f"{platform.settings.control_url}/dashboard",
    )
    return SignupOut(
        account=AccountOut.model_validate(created.account),
        organization=OrganizationOut.model_validate(created.organization),
        deployment=await deployments.describe(session, created.deployment),
        token=created.session.token,
        checkout_url=created.checkout_url,
    )

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from webhost.control.accounts.schemas import AccountOut, NewPassword, OrganizationOut
from webhost.control.deployments.schemas import DeploymentOut
from webhost.validation import StorableText


class SignupIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: EmailStr
    password: NewPassword
    name: StorableText = Field(min_length=1, max_length=200)
    organization: StorableText = Field(min_length=1, max_length=200)
    plan: StorableText = Field(min_length=1, max_length=40, examples=["hobby"])


class SignupOut(BaseModel):
    account: AccountOut
    organization: OrganizationOut
    deployment: DeploymentOut
    token: str = Field(description="A session token, as POST /api/login would return.")
    checkout_url: str | None = Field(
        default=None,
        description="Where to pay for a paid plan (Stripe Checkout); the deployment waits in "
        "'awaiting_payment' until Stripe confirms. Null when nothing is to be paid.",
    )

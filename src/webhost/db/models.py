"""Imports every control-plane model so metadata (and Alembic) sees all tables."""

from webhost.control.accounts.models import (
    Account,
    AuthToken,
    LoginFailures,
    Membership,
    Organization,
)
from webhost.control.billing.models import Subscription
from webhost.control.deployments.models import Deployment
from webhost.control.keys.models import ApiKey
from webhost.control.plans.models import Plan
from webhost.control.providers.hetzner.models import HostPlacement, SharedHost
from webhost.control.providers.local.models import LocalProcess
from webhost.control.provisioning.models import ProvisioningStep, WorkflowRun
from webhost.db.base import Base

__all__ = [
    "Account",
    "ApiKey",
    "AuthToken",
    "Base",
    "Deployment",
    "HostPlacement",
    "LocalProcess",
    "LoginFailures",
    "Membership",
    "Organization",
    "Plan",
    "ProvisioningStep",
    "SharedHost",
    "Subscription",
    "WorkflowRun",
]

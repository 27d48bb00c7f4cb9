"""The provider interface: how a deployment's infrastructure is created, reached and removed.

A provider turns a deployment into an ordered list of steps. Each step is idempotent (applying
it twice changes nothing) and knows how to undo itself, so the workflow engine can resume after
a crash and compensate in reverse order when a step fails for good.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from webhost.control.keys.models import KeyScope
from webhost.control.plans.models import DeploymentMode
from webhost.data.tenancy.limits import TenantLimits
from webhost.data.tenancy.management import TenantHoldings
from webhost.data.tenancy.repository import ServingState
from webhost.data.tenancy.scope import Tenant
from webhost.data.tenancy.transfer import CopyReport, TableDigest
from webhost.errors import ProvisioningError

if TYPE_CHECKING:
    from webhost.control.providers.context import ProviderContext


@dataclass(frozen=True)
class DeploymentSpec:
    """What a provider needs to know about a deployment (never an ORM object)."""

    id: uuid.UUID
    organization_id: uuid.UUID
    tenant_name: str
    mode: DeploymentMode
    plan_slug: str
    # the name of the provider the deployment is made on (see providers/registry.py)
    provider: str
    region: str | None
    # every region the plan runs in, the primary (``region``) first
    regions: tuple[str, ...] = ()
    limits: TenantLimits = field(default_factory=TenantLimits)
    # the plan's catalog ``resources`` (sizes a cloud provider may read; never secrets)
    resources: Mapping[str, Any] = field(default_factory=dict)

    @property
    def tenant(self) -> Tenant:
        return Tenant(id=self.id, name=self.tenant_name)


@dataclass(frozen=True)
class Endpoints:
    api_url: str
    sync_url: str
    # set by providers whose URLs are stable names of their own (DNS): where the plane is now;
    # unset, the URLs are the plane's and the local edge gives the deployment stable ones
    plane_url: str | None = None


SecretGetter = Callable[[str, Callable[[], str]], Awaitable[str]]


@dataclass
class StepRun:
    """One execution of a step: the deployment, earlier steps' outputs and its secrets."""

    deployment: DeploymentSpec
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    secret: SecretGetter | None = None

    async def get_secret(self, name: str, generate: Callable[[], str]) -> str:
        """A deployment secret, created and stored (encrypted) the first time it is asked for."""
        assert self.secret is not None
        return await self.secret(name, generate)


class ProvisioningStep(ABC):
    name: ClassVar[str]

    @abstractmethod
    async def apply(self, run: StepRun) -> dict[str, Any]:
        """Create what the step stands for unless it exists; return non-secret facts about it."""

    @abstractmethod
    async def undo(self, run: StepRun) -> None:
        """Remove what apply created; a no-op when there is nothing (also after a partial apply)."""


class Provider(ABC):
    name: ClassVar[str]

    def __init__(self, context: ProviderContext) -> None:
        self.context = context

    @abstractmethod
    def provision_steps(self, deployment: DeploymentSpec) -> Sequence[ProvisioningStep]: ...

    @abstractmethod
    def endpoints(
        self, deployment: DeploymentSpec, outputs: dict[str, dict[str, Any]]
    ) -> Endpoints:
        """Where clients reach the deployment once its steps are done."""

    @abstractmethod
    async def publish_key(
        self,
        deployment: DeploymentSpec,
        prefix: str,
        secret_digest: str,
        scope: KeyScope = KeyScope.FULL,
    ) -> None:
        """Make a key valid on the deployment's data plane with its scope (idempotent)."""

    @abstractmethod
    async def revoke_key(self, deployment: DeploymentSpec, prefix: str) -> None:
        """Make a key invalid on the deployment's data plane at once (idempotent)."""

    @abstractmethod
    async def publish_limits(self, deployment: DeploymentSpec) -> None:
        """Make the deployment's data plane enforce its plan's current limits (idempotent);
        connections and documents opened from then on get them."""

    @abstractmethod
    async def set_serving_state(
        self, deployment: DeploymentSpec, state: ServingState, message: str | None = None
    ) -> None:
        """Make the data plane serve the deployment (``active``), answer 402 with ``message``
        (``suspended``: nothing is deleted) or 503 with Retry-After (``held``: while it moves);
        open sockets are closed so clients meet the new state at once (idempotent)."""

    @abstractmethod
    async def holdings(self, deployment: DeploymentSpec) -> TenantHoldings:
        """What the deployment keeps that a smaller plan may not allow (vehicles, positions)."""

    # whether the provider can hand a deployment's data to another plane and take it in (a
    # move between shared and dedicated hosting, on this provider or between two)
    moves_between_modes: ClassVar[bool] = False
    # whether the deployment's URLs are DNS names of the provider's own (else the edge's)
    stable_hostnames: ClassVar[bool] = False

    async def freeze_tenant(self, deployment: DeploymentSpec) -> None:
        """Wait out the writes in flight on the deployment's data, then refuse any more
        (``data/tenancy/freeze.py``); idempotent."""
        raise self._cannot_move()

    async def thaw_tenant(self, deployment: DeploymentSpec) -> None:
        """Give a frozen deployment its writes back (a move rolled back); idempotent."""
        raise self._cannot_move()

    async def copy_tenant(self, source: DeploymentSpec, target: DeploymentSpec) -> CopyReport:
        """Replace the target's copy of the tenant with the frozen source's, in one go (both
        on this provider): through a dump unless the provider has a shorter way."""
        return await self.restore_tenant(target, self.dump_tenant(source))

    def dump_tenant(self, deployment: DeploymentSpec) -> AsyncIterator[bytes]:
        """The frozen deployment's data as one dump (``data/tenancy/dump.py``), streamed."""
        raise self._cannot_move()

    async def restore_tenant(
        self, deployment: DeploymentSpec, chunks: AsyncIterator[bytes]
    ) -> CopyReport:
        """Replace the deployment's data with a dump streamed from another plane, all or
        nothing (``data/tenancy/restore.py``)."""
        raise self._cannot_move()

    async def tenant_digests(self, deployment: DeploymentSpec) -> dict[str, TableDigest]:
        """Row counts and content digests of every table of the deployment's data."""
        raise self._cannot_move()

    def export_tenant(self, deployment: DeploymentSpec) -> AsyncIterator[str]:
        """Every row of the deployment's data as JSON lines (the customer's export)."""
        raise ProvisioningError(f"the {self.name} provider cannot export a deployment's data")

    def _cannot_move(self) -> ProvisioningError:
        return ProvisioningError(
            f"the {self.name} provider cannot move a deployment's data to or from another plane"
        )

    # whether the deployment's data lives in its primary region (a plan without that region
    # cannot take it in place)
    primary_region_holds_data: ClassVar[bool] = False

    async def reshape(self, deployment: DeploymentSpec) -> None:
        """Bring what serves the deployment in line with its plan after a change within its
        mode (regions added or dropped, machine sizes): idempotent; nothing by default."""
        return

    async def run(self) -> None:
        """Long-running duties (e.g. supervising processes); returns when there are none."""
        return

    async def close(self) -> None:
        return None

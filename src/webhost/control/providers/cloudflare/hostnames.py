"""A deployment's stable hostnames: ``{slug}.api.<base domain>`` and ``{slug}.sync.<base
domain>``, proxied by Cloudflare to whatever serves the deployment now.

The records are the deployment's for its whole life; a move to another host or app changes
what they point at (``switch``), never the names its apps were given.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from webhost.config import Settings
from webhost.control.providers.base import DeploymentSpec, Endpoints, ProvisioningStep, StepRun
from webhost.control.providers.cloudflare.dns import CloudflareDns
from webhost.control.providers.cloudflare.names import DeploymentHostnames
from webhost.control.providers.retries import RetryPolicy
from webhost.errors import ConfigurationError

# where a deployment's hostnames point: an IPv4 address (A record) or a hostname (CNAME)
TargetOf = Callable[[StepRun], str | Awaitable[str]]


def deployment_slug(deployment: DeploymentSpec) -> str:
    """The first label of the deployment's hostnames: its tenant's 16 hex digits."""
    return deployment.tenant_name.removeprefix("t_")


def cloudflare_dns(
    settings: Settings, *, retry: RetryPolicy | None = None, proxied: bool = True
) -> CloudflareDns:
    """A client of the configured zone; refuses to start without the three settings it needs.
    ``proxied=False``: its records are DNS only (a validation record must be seen as it is)."""
    missing = [
        name
        for name, value in (
            ("WEBHOST_CLOUDFLARE_API_TOKEN", settings.cloudflare_api_token),
            ("WEBHOST_CLOUDFLARE_ZONE_ID", settings.cloudflare_zone_id),
            ("WEBHOST_BASE_DOMAIN", settings.base_domain),
        )
        if not value
    ]
    if missing:
        raise ConfigurationError(
            f"stable hostnames on Cloudflare need {', '.join(missing)} to be set"
        )
    assert settings.cloudflare_api_token is not None
    return CloudflareDns(
        settings.cloudflare_api_token.get_secret_value(),
        settings.cloudflare_zone_id or "",
        settings.base_domain or "",
        api_base=settings.cloudflare_api_base,
        proxied=proxied,
        retry=retry,
    )


class StableHostnames(ProvisioningStep):
    """Proxied records of the deployment's two hostnames, pointing at ``target_of(run)``."""

    name = "stable_hostnames"

    def __init__(
        self, settings: Settings, target_of: TargetOf, *, retry: RetryPolicy | None = None
    ) -> None:
        self.settings = settings
        self.target_of = target_of
        self.retry = retry

    def dns(self) -> CloudflareDns:
        return cloudflare_dns(self.settings, retry=self.retry)

    def hostnames(self, deployment: DeploymentSpec) -> DeploymentHostnames:
        return DeploymentHostnames(
            api=f"{deployment_slug(deployment)}.api.{self._base_domain()}",
            sync=f"{deployment_slug(deployment)}.sync.{self._base_domain()}",
        )

    def endpoints(self, deployment: DeploymentSpec, plane_url: str) -> Endpoints:
        """The URLs the deployment's apps are given; ``plane_url`` is where it is served now."""
        api, sync = self.hostnames(deployment)
        return Endpoints(api_url=f"https://{api}", sync_url=f"wss://{sync}", plane_url=plane_url)

    async def apply(self, run: StepRun) -> dict[str, Any]:
        target = self.target_of(run)
        resolved = await target if inspect.isawaitable(target) else target
        await self.switch(run.deployment, resolved)
        api, sync = self.hostnames(run.deployment)
        return {"api": api, "sync": sync, "target": resolved}

    async def switch(self, deployment: DeploymentSpec, target: str) -> None:
        """Point both hostnames at ``target`` (records made, changed in place, or switched
        between A and CNAME in one batch, so the names are never without a record)."""
        async with self.dns() as dns:
            for hostname in dns.hostnames(deployment_slug(deployment)):
                await dns.ensure_record(hostname, target, deployment_id=deployment.id)

    async def undo(self, run: StepRun) -> None:
        async with self.dns() as dns:
            for hostname in dns.hostnames(deployment_slug(run.deployment)):
                await dns.delete_record(hostname, deployment_id=run.deployment.id)

    def _base_domain(self) -> str:
        if not self.settings.base_domain:
            raise ConfigurationError("stable hostnames need WEBHOST_BASE_DOMAIN to be set")
        return self.settings.base_domain.lower().removesuffix(".")

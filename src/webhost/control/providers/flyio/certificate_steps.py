"""The ``fly_certificates`` step: Fly's proxy holds a certificate for each stable hostname
before Cloudflare sends it a request for one.

Cloudflare reaches ``<app>.fly.dev`` over TLS and, in Full (strict) mode, wants a certificate
valid for the name it was asked for. The step adds both hostnames to the app with a Let's
Encrypt certificate, publishes each DNS-01 validation record (``_acme-challenge.<hostname>``,
a CNAME Cloudflare serves as it is, not proxied), and asks Fly to check until it says the
certificate is configured: within ``WEBHOST_FLY_CERTIFICATE_WAIT_SECONDS``, or the step fails
with what Fly last said (and the workflow retries it; nothing is asked for twice).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from webhost.control.providers.base import StepRun
from webhost.control.providers.cloudflare.hostnames import cloudflare_dns
from webhost.control.providers.flyio.schemas import FlyCertificate
from webhost.control.providers.flyio.steps import FlyStep, unless_app_gone
from webhost.errors import ProvisioningError


class FlyCertificates(FlyStep):
    name = "fly_certificates"

    def hostnames(self, run: StepRun) -> list[str]:
        return list(self.provider.hostnames.hostnames(run.deployment))

    async def apply(self, run: StepRun) -> dict[str, Any]:
        app = self.app(run)
        challenges = {}
        async with cloudflare_dns(self.provider.context.settings, proxied=False) as dns:
            for hostname in self.hostnames(run):
                certificate = await self.provider.fly.ensure_certificate(app, hostname)
                challenge = certificate.challenge
                if challenge is None:
                    raise ProvisioningError(
                        f"Fly.io names no DNS validation record for {hostname} on app {app}"
                    )
                await dns.ensure_record(
                    challenge.name, challenge.target, deployment_id=run.deployment.id
                )
                challenges[hostname] = challenge.name
        for hostname in challenges:
            await self.wait_issued(app, hostname, challenges[hostname])
        return {"hostnames": sorted(challenges), "validation_records": sorted(challenges.values())}

    async def wait_issued(self, app: str, hostname: str, record: str) -> FlyCertificate:
        settings = self.provider.context.settings
        deadline = time.monotonic() + settings.fly_certificate_wait_seconds
        while True:
            certificate = await self.provider.fly.check_certificate(app, hostname)
            if certificate.configured:
                return certificate
            if time.monotonic() + settings.fly_certificate_check_seconds > deadline:
                errors = "; ".join(str(error) for error in certificate.validation_errors[:3])
                raise ProvisioningError(
                    f"Fly.io has not issued the certificate of {hostname} within "
                    f"{settings.fly_certificate_wait_seconds:g} s (status "
                    f"{certificate.status or 'unknown'}{': ' + errors if errors else ''}); "
                    f"its validation record is {record}"
                )
            await asyncio.sleep(settings.fly_certificate_check_seconds)

    async def undo(self, run: StepRun) -> None:
        app = self.app(run)
        async with cloudflare_dns(self.provider.context.settings, proxied=False) as dns:
            for hostname in self.hostnames(run):
                await unless_app_gone(self.provider.fly.delete_certificate(app, hostname))
                await dns.delete_record(
                    f"_acme-challenge.{hostname}", deployment_id=run.deployment.id
                )

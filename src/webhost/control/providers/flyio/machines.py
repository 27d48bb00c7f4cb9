"""Idempotent Fly.io operations for a dedicated deployment: its app, volumes, secrets, public IP
addresses and machines, through the Machines REST API (https://api.machines.dev/v1).

Every ``ensure_*`` first looks for what an earlier, possibly crashed, attempt made (apps and
machines by name, volumes by name and region, addresses by kind) and creates only what is
missing; a create whose answer was lost is looked for again before it is repeated, so a retry
never makes a second volume or address. ``delete_*`` succeed when the resource is already gone.
IP addresses are assigned with the Machines API's ``/ip_assignments`` endpoints; the GraphQL API
that older documentation points to is not needed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Collection, Mapping
from types import TracebackType
from typing import Any

from webhost.control.providers.flyio import apps, certificates, volumes
from webhost.control.providers.flyio.machine_config import MachineConfig, config_drifted
from webhost.control.providers.flyio.names import (
    check_app_name,
    check_machine_name,
    check_region,
    check_resource_id,
    check_volume_name,
    check_volume_size,
)
from webhost.control.providers.flyio.schemas import (
    FlyApp,
    FlyCertificate,
    FlyIpAssignment,
    FlyMachine,
    FlyVolume,
    read_json,
)
from webhost.control.providers.flyio.transport import FLY_RETRIES, FlyTransport, segment
from webhost.control.providers.retries import RetryPolicy
from webhost.errors import ProvisioningError

DEFAULT_API_BASE = "https://api.machines.dev"
# the wait endpoint blocks for at most this long per request
LONGEST_WAIT_SECONDS = 60
STOPPED_STATES = frozenset({"stopped", "suspended"})
FAILED_STATES = frozenset({"failed", "destroying", "destroyed"})


class FlyMachinesApi:
    """One Fly.io organization's apps, through one token. Use as ``async with``, or ``aclose``."""

    def __init__(
        self,
        api_token: str,
        org_slug: str,
        *,
        api_base: str = DEFAULT_API_BASE,
        retry: RetryPolicy | None = None,
        request_timeout: float = 30.0,
    ) -> None:
        self.org_slug = org_slug
        self._http = FlyTransport(
            api_token, api_base, retry=retry or FLY_RETRIES, request_timeout=request_timeout
        )

    async def __aenter__(self) -> FlyMachinesApi:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def ensure_app(self, name: str) -> FlyApp:
        """The app ``name`` in our organization, created when missing."""
        return await apps.ensure_app(self._http, self.org_slug, check_app_name(name))

    async def delete_app(self, name: str) -> None:
        """Remove the app with everything in it (machines are stopped first); gone is fine."""
        await apps.delete_app(self._http, check_app_name(name))

    async def set_secrets(self, app: str, secrets: Mapping[str, str]) -> int:
        """Set the app's secrets (machines created or updated afterwards get them); returns the
        secrets version to pass as ``min_secrets_version``. Values are never logged."""
        return await apps.set_secrets(self._http, check_app_name(app), secrets)

    async def unset_secrets(self, app: str, names: Collection[str]) -> None:
        """Remove the app's secrets ``names``; an app or secret already gone is fine."""
        if names:
            await apps.unset_secrets(self._http, check_app_name(app), list(names))

    async def release_ips(self, app: str) -> None:
        """Release the app's public addresses; an app already gone has none."""
        await apps.release_ips(self._http, check_app_name(app))

    async def list_volumes(self, app: str) -> list[FlyVolume]:
        return await volumes.list_volumes(self._http, check_app_name(app))

    async def find_volume(self, app: str, name: str, region: str) -> FlyVolume | None:
        """The live volume ``name`` in ``region`` (the oldest, should there be several)."""
        return await volumes.find_volume(
            self._http, check_app_name(app), check_volume_name(name), check_region(region)
        )

    async def ensure_ips(self, app: str) -> list[FlyIpAssignment]:
        """A shared IPv4 and a dedicated IPv6 address, so ``<app>.fly.dev`` answers on both."""
        return await apps.ensure_ips(self._http, check_app_name(app))

    async def ensure_certificate(self, app: str, hostname: str) -> FlyCertificate:
        """The hostname on the app with a Let's Encrypt certificate asked for (once)."""
        return await certificates.ensure_certificate(self._http, check_app_name(app), hostname)

    async def check_certificate(self, app: str, hostname: str) -> FlyCertificate:
        return await certificates.check_certificate(self._http, check_app_name(app), hostname)

    async def delete_certificate(self, app: str, hostname: str) -> None:
        """The hostname and its certificates off the app; already gone is fine."""
        await certificates.delete_certificate(self._http, check_app_name(app), hostname)

    async def ensure_volume(self, app: str, name: str, region: str, size_gb: int) -> FlyVolume:
        """The volume ``name`` in ``region``, created when missing and grown when smaller than
        ``size_gb`` (volumes cannot shrink, so a larger one is kept as it is)."""
        return await volumes.ensure_volume(
            self._http,
            check_app_name(app),
            check_volume_name(name),
            check_region(region),
            check_volume_size(size_gb),
        )

    async def delete_volume(self, app: str, volume_id: str) -> None:
        """Destroy the volume; gone is fine."""
        await volumes.delete_volume(
            self._http, check_app_name(app), check_resource_id(volume_id, what="volume")
        )

    # machines

    async def list_machines(self, app: str) -> list[FlyMachine]:
        check_app_name(app)
        action = f"list the machines of app {app}"
        response = await self._http.send("GET", f"/v1/apps/{segment(app)}/machines", action=action)
        return [m for m in read_json(response, list[FlyMachine], action=action) if m.live]

    async def ensure_machine(
        self,
        app: str,
        name: str,
        region: str,
        config: MachineConfig,
        *,
        min_secrets_version: int | None = None,
    ) -> FlyMachine:
        """The machine ``name`` running ``config``: created when missing, updated (Fly.io
        restarts it) when its config differs, started when it was stopped."""
        check_app_name(app)
        check_machine_name(name)
        check_region(region)
        desired = config.to_fly()
        body: dict[str, Any] = {"name": name, "region": region, "config": desired}
        if min_secrets_version is not None:
            body["min_secrets_version"] = min_secrets_version
        action = f"create machine {name} in {region} for app {app}"

        async def attempt() -> tuple[FlyMachine, bool]:
            found = next((m for m in await self.list_machines(app) if m.name == name), None)
            if found is not None:
                return found, False
            response = await self._http.send_once(
                "POST", f"/v1/apps/{segment(app)}/machines", json=body, action=action
            )
            return read_json(response, FlyMachine, action=action), True

        machine, created = await self._http.retrying(attempt, action=action)
        if created:
            return machine
        if machine.region != region:
            raise ProvisioningError(
                f"the Fly machine {name} of app {app} runs in {machine.region}, not {region}"
            )
        if config_drifted(desired, machine.config):
            action = f"update machine {machine.id} of app {app}"
            response = await self._http.send(
                "POST",
                f"/v1/apps/{segment(app)}/machines/{segment(machine.id)}",
                json=body,
                action=action,
            )
            return read_json(response, FlyMachine, action=action)
        if machine.state in STOPPED_STATES:
            await self._http.send(
                "POST",
                f"/v1/apps/{segment(app)}/machines/{segment(machine.id)}/start",
                action=f"start machine {machine.id} of app {app}",
            )
            return await self.get_machine(app, machine.id)
        return machine

    async def get_machine(self, app: str, machine_id: str) -> FlyMachine:
        check_app_name(app)
        check_resource_id(machine_id, what="machine")
        action = f"look up machine {machine_id} of app {app}"
        response = await self._http.send(
            "GET", f"/v1/apps/{segment(app)}/machines/{segment(machine_id)}", action=action
        )
        return read_json(response, FlyMachine, action=action)

    async def wait_started(self, app: str, machine_id: str, within_seconds: float) -> FlyMachine:
        """Block until the machine is ``started`` (Fly.io's wait endpoint, up to a minute per
        request) or ``within_seconds`` have passed, then raise saying the state it is in."""
        check_app_name(app)
        check_resource_id(machine_id, what="machine")
        if not within_seconds > 0:
            raise ProvisioningError(f"a wait of {within_seconds!r} s cannot see a machine start")
        deadline = time.monotonic() + within_seconds
        path = f"/v1/apps/{segment(app)}/machines/{segment(machine_id)}/wait"
        while True:
            seconds = max(1, min(LONGEST_WAIT_SECONDS, math.ceil(deadline - time.monotonic())))
            response = await self._http.send(
                "GET",
                path,
                params={"state": "started", "timeout": seconds},
                action=f"wait for machine {machine_id} of app {app} to start",
                accept=(408,),
                read_timeout=seconds + 30.0,
            )
            machine = await self.get_machine(app, machine_id)
            if response.status_code != 408 and machine.state == "started":
                return machine
            if machine.state in FAILED_STATES or time.monotonic() >= deadline:
                raise ProvisioningError(
                    f"the Fly machine {machine_id} of app {app} did not start within "
                    f"{within_seconds:g} s: it is {machine.state or 'in no known state'}"
                )

    async def delete_machine(self, app: str, machine_id: str) -> None:
        """Destroy the machine, stopping it first if it runs; gone is fine."""
        check_app_name(app)
        check_resource_id(machine_id, what="machine")
        await self._http.send(
            "DELETE",
            f"/v1/apps/{segment(app)}/machines/{segment(machine_id)}",
            params={"force": "true"},
            action=f"delete machine {machine_id} of app {app}",
            accept=(404,),
        )

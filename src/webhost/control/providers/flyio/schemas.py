"""What the Machines API answers, as far as provisioning reads it (its OpenAPI schemas ``App``,
``Volume``, ``IPAssignment``, ``Machine``, ``AppSecretsUpdateResp``); other fields are ignored."""

from __future__ import annotations

from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from webhost.errors import ProvisioningError

M = TypeVar("M")

# volumes Fly.io is removing still show up in its list for a while
DESTROYED_VOLUME_STATES = frozenset(
    {
        "scheduling_destroy",
        "fork_cleanup",
        "waiting_for_detach",
        "pending_destroy",
        "destroying",
        "destroyed",
    }
)
GONE_MACHINE_STATES = frozenset({"destroying", "destroyed"})


class FlyModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class FlyOrganization(FlyModel):
    slug: str = ""
    name: str = ""


class FlyApp(FlyModel):
    id: str = ""
    name: str
    status: str | None = None
    organization: FlyOrganization = Field(default_factory=FlyOrganization)


class FlyVolume(FlyModel):
    id: str
    name: str
    region: str
    size_gb: int
    state: str | None = None
    attached_machine_id: str | None = None
    created_at: str | None = None

    @property
    def live(self) -> bool:
        return self.state not in DESTROYED_VOLUME_STATES


class FlyExtendedVolume(FlyModel):
    volume: FlyVolume | None = None
    needs_restart: bool = False


class FlyIpAssignment(FlyModel):
    ip: str
    shared: bool = False
    region: str | None = None
    service_name: str | None = None

    @property
    def is_shared_ipv4(self) -> bool:
        return self.shared and ":" not in self.ip

    @property
    def is_public_ipv6(self) -> bool:
        # fdaa: addresses are the app's private (Flycast) ones
        return not self.shared and ":" in self.ip and not self.ip.lower().startswith("fdaa:")


class FlyIpAssignments(FlyModel):
    ips: list[FlyIpAssignment] | None = None


class FlyMachine(FlyModel):
    id: str
    name: str | None = None
    region: str | None = None
    state: str | None = None
    instance_id: str | None = None
    private_ip: str | None = None
    config: dict[str, Any] | None = None

    @property
    def live(self) -> bool:
        return self.state not in GONE_MACHINE_STATES


class FlySecretsUpdate(FlyModel):
    version: int | None = None


def read_json(response: httpx.Response, shape: type[M], *, action: str) -> M:
    """The answer as ``shape`` (a model or a typing form such as ``list[FlyMachine]``)."""
    try:
        parsed: M = TypeAdapter(shape).validate_json(response.content)
    except ValidationError:
        raise ProvisioningError(
            f"Fly.io answered the request to {action} with a body its API does not document "
            f"(HTTP {response.status_code})"
        ) from None
    return parsed


class FlyAcmeChallenge(FlyModel):
    name: str
    target: str


class FlyDnsRequirements(FlyModel):
    acme_challenge: FlyAcmeChallenge | None = None


class FlyCertificate(FlyModel):
    """A hostname's certificates on an app (the Certificates resource's details)."""

    hostname: str
    configured: bool = False
    status: str = ""
    dns_requirements: FlyDnsRequirements | None = None
    validation_errors: list[Any] = Field(default_factory=list)

    @property
    def challenge(self) -> FlyAcmeChallenge | None:
        return self.dns_requirements.acme_challenge if self.dns_requirements else None

"""A shared host's resources: made (firewall, volume, server, its DNS name) and removed.

Every Hetzner resource carries the host's labels and the DNS record the host's comment, so a
repeat after a crash finds what the earlier attempt made instead of making a second one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from webhost.control.providers.cloudflare.hostnames import cloudflare_dns
from webhost.control.providers.cloudflare.origin_ca import OriginCertificates
from webhost.control.providers.hetzner.cloud import HetznerCloud
from webhost.control.providers.hetzner.cloud_init import HostTls, shared_host_user_data
from webhost.control.providers.hetzner.firewalls import shared_host_rules
from webhost.control.providers.hetzner.labels import host_labels
from webhost.errors import ConfigurationError, ProvisioningError

if TYPE_CHECKING:
    from webhost.config import Settings

# the data plane's port inside the container; the host publishes it on port 443 (HTTPS)
PLANE_PORT = 8001
# what a host's plane URL template may use
PLANE_URL_FIELDS = ("host_id", "base_domain")


@dataclass(frozen=True)
class BuiltHost:
    server_id: int
    address: str


def host_dns_name(settings: Settings, host_id: str) -> str:
    return f"host-{host_id}.{(settings.base_domain or '').lower().removesuffix('.')}"


def host_dns_owner(host_id: str) -> str:
    """The comment of the host's own DNS record (deployments' records name the deployment)."""
    return f"webhost shared host {host_id}"


def host_certificate_names(settings: Settings, host_id: str) -> list[str]:
    """What the host's origin certificate covers: its own name and every deployment name."""
    base = (settings.base_domain or "").lower().removesuffix(".")
    return [host_dns_name(settings, host_id), f"*.api.{base}", f"*.sync.{base}"]


def plane_url_of(settings: Settings, host_id: str) -> str:
    """Where the control plane reaches the host's data plane (WEBHOST_HETZNER_PLANE_URL)."""
    try:
        url = settings.hetzner_plane_url.format(
            host_id=host_id, base_domain=(settings.base_domain or "").removesuffix(".")
        )
    except (KeyError, IndexError, ValueError) as exc:
        raise ProvisioningError(
            f"WEBHOST_HETZNER_PLANE_URL {settings.hetzner_plane_url!r} may use only "
            f"{', '.join('{' + name + '}' for name in PLANE_URL_FIELDS)} ({exc})"
        ) from None
    return url.rstrip("/")


def plane_command() -> list[str]:
    """The container's command: one shared data plane with its own embedded PostgreSQL."""
    # inside its container: Docker publishes the port, the host firewall decides who reaches it
    return ["dataplane", "--embedded", "--host", "0.0.0.0", "--port", str(PLANE_PORT)]  # noqa: S104


class HostResources:
    def __init__(self, settings: Settings, cloud: HetznerCloud) -> None:
        self.settings = settings
        self.cloud = cloud

    async def build(self, host_id: str, management_token: str) -> BuiltHost:
        """Firewall, volume, an origin certificate and the server (cloud-init runs the data plane
        with them, serving HTTPS), then the host's name."""
        labels = host_labels(host_id)
        operator = self.settings.hetzner_operator_cidr
        rules = shared_host_rules(
            operator_addresses=[operator] if operator else [],
            # the control plane comes in through Cloudflare on 443, like every client
            control_plane_addresses=[],
            management_port=PLANE_PORT,
        )
        firewall = await self.cloud.ensure_firewall(f"webhost-{host_id}", rules, labels)
        volume = await self.cloud.ensure_volume(
            f"webhost-{host_id}", self.settings.hetzner_volume_gb, labels
        )
        tls = None
        if not await self.cloud.has_server(host_id):
            # a server made already keeps the user data (and the key) it was made with
            async with OriginCertificates(self.settings) as origin:
                issued = await origin.issue(host_certificate_names(self.settings, host_id))
            tls = HostTls(certificate_pem=issued.certificate_pem, key_pem=issued.key_pem)
        user_data = shared_host_user_data(
            image=self.settings.hetzner_dataplane_image,
            environment={"WEBHOST_DATAPLANE_MANAGEMENT_TOKEN": management_token},
            volume_device=volume.linux_device,
            ports={443: PLANE_PORT},
            command=plane_command(),
            tls=tls,
        )
        server = await self.cloud.ensure_server(host_id, labels, user_data, firewall, volume)
        if server.ipv4 is None:
            raise ProvisioningError(f"server {server.name!r} has no public IPv4 address")
        async with cloudflare_dns(self.settings) as dns:
            await dns.ensure_owned_record(
                host_dns_name(self.settings, host_id), server.ipv4, host_dns_owner(host_id)
            )
        return BuiltHost(server_id=server.id, address=server.ipv4)

    async def remove(self, host_id: str) -> None:
        """Everything ``build`` made, in reverse; what is already gone counts as removed."""
        async with cloudflare_dns(self.settings) as dns:
            await dns.delete_owned_record(
                host_dns_name(self.settings, host_id), host_dns_owner(host_id)
            )
        await self.cloud.delete_server(host_id)
        await self.cloud.delete_volume(host_id)
        await self.cloud.delete_firewall(host_id)
        # every certificate issued for it, a retried build's unused ones too
        async with OriginCertificates(self.settings) as origin:
            await origin.revoke_for(host_dns_name(self.settings, host_id))


def cloud_of(settings: Settings) -> HetznerCloud:
    if settings.hetzner_api_token is None:
        raise ConfigurationError("the hetzner provider needs WEBHOST_HETZNER_API_TOKEN to be set")
    return HetznerCloud(
        settings.hetzner_api_token.get_secret_value(),
        api_endpoint=settings.hetzner_api_endpoint,
        location=settings.hetzner_location,
        server_type=settings.hetzner_server_type,
        image=settings.hetzner_image,
        action_poll_seconds=settings.hetzner_action_poll_seconds,
    )

"""The Hetzner Cloud client of the shared hosts' provisioning steps.

Every resource carries its host's labels (``labels.host_labels``). An ``ensure_*`` call first
looks for what an earlier, possibly crashed, attempt made by those labels, creates it only when
missing and brings it in line where the API allows; a ``delete_*`` call succeeds when the
resource is already gone. Each blocking step reads before it writes, so a retry repeats it
safely even when a lost answer hid that the write had happened.
"""

from __future__ import annotations

from webhost.control.providers.hetzner.firewalls import FirewallOperations
from webhost.control.providers.hetzner.servers import ServerOperations
from webhost.control.providers.hetzner.transport import (
    DEFAULT_API_ENDPOINT,
    HETZNER_RETRIES,
    HetznerCalls,
)
from webhost.control.providers.hetzner.volumes import VolumeOperations
from webhost.control.providers.retries import RetryPolicy
from webhost.errors import ConfigurationError


class HetznerCloud(FirewallOperations, VolumeOperations, ServerOperations):
    """One Hetzner Cloud project (the token's), with the installation's choice of location,
    server type and image for shared hosts."""

    def __init__(
        self,
        api_token: str,
        *,
        api_endpoint: str | None = None,
        location: str,
        server_type: str,
        image: str,
        retry: RetryPolicy | None = None,
        request_timeout_seconds: float = 30.0,
        action_poll_seconds: float = 1.0,
        action_timeout_seconds: float = 600.0,
    ) -> None:
        if not api_token:
            raise ConfigurationError("the Hetzner Cloud API token is empty")
        self.location = location
        self.server_type = server_type
        self.image = image
        self._calls = HetznerCalls(
            api_token,
            api_endpoint=api_endpoint or DEFAULT_API_ENDPOINT,
            retry=retry or HETZNER_RETRIES,
            request_timeout_seconds=request_timeout_seconds,
            action_poll_seconds=action_poll_seconds,
            action_timeout_seconds=action_timeout_seconds,
        )

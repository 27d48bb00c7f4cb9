"""Every setting WebHost reads, in one class."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Settings come from the environment (prefix ``WEBHOST_``) or CLI flags."""

    model_config = SettingsConfigDict(env_prefix="WEBHOST_", extra="ignore")

    data_dir: Path = Field(default=Path(".webhost"), description="Embedded database, keys, logs.")
    database_url: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "WEBHOST_DATABASE_URL"),
        description="External PostgreSQL for the control plane; unset means embedded.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Base64 key (32 bytes) that encrypts stored credentials and signs the "
        "dashboard's CSRF tokens; unset means one is generated in the data directory.",
    )
    host: str = Field(default="127.0.0.1", description="Interface to listen on.")
    port: int = Field(
        default=8000, ge=0, le=65535, description="Control plane (dashboard and API) port."
    )
    data_port: int = Field(default=8001, ge=0, le=65535, description="Shared data plane port.")
    edge_port: int = Field(
        default=8002,
        ge=0,
        le=65535,
        description="Port of the edge that serves every deployment at a stable URL.",
    )
    edge: bool = Field(
        default=True,
        description="Give deployments stable URLs on the edge (off: their plane's own URL).",
    )
    edge_public_url: str | None = Field(
        default=None, description="The edge's URL as apps see it (default: host and edge port)."
    )
    public_url: str | None = Field(default=None, description="Control plane URL as users see it.")
    stripe_secret_key: SecretStr | None = Field(
        default=None,
        description="Stripe secret key (sk_...); with the webhook secret it turns billing on.",
    )
    stripe_webhook_secret: SecretStr | None = Field(
        default=None, description="Signing secret (whsec_...) of the Stripe webhook endpoint."
    )
    stripe_api_base: str | None = Field(
        default=None, description="Another host for the Stripe API (tests point it at a fake)."
    )
    billing_grace_days: float = Field(
        default=7, gt=0, le=90, description="Days a deployment serves after a failed payment."
    )
    billing_retention_days: float = Field(
        default=30,
        gt=0,
        le=3650,
        description="Days a cancelled subscription's data is kept for export before deletion.",
    )
    move_safety_hours: float = Field(
        default=24,
        ge=0,
        le=24 * 90,
        description="Hours the old copy of a deployment that moved between shared and dedicated "
        "hosting is kept (frozen) before it is removed.",
    )
    shared_data_url: str | None = Field(
        default=None, description="Shared data plane URL as clients see it."
    )
    dedicated_ports: str = Field(
        default="9100-9199", description="Port range for dedicated data-plane processes."
    )
    provider: str = Field(
        default="local",
        description="Provisioning provider: a registered name or 'module:Class'.",
    )
    fly_api_token: SecretStr | None = Field(
        default=None,
        description="Fly.io API token (`fly tokens create org`) of the organization that "
        "holds dedicated deployments' apps; the flyio provider needs it.",
    )
    fly_api_base: str = Field(
        default="https://api.machines.dev",
        description="The Fly.io Machines API (tests point it at a fake).",
    )
    fly_org: str = Field(
        default="personal", description="Slug of the Fly.io organization apps are created in."
    )
    fly_app_prefix: str = Field(
        default="wh",
        pattern=r"^[a-z][a-z0-9-]{0,20}$",
        description="Start of every Fly app name (`<prefix>-<tenant's 16 hex digits>`); Fly "
        "app names are global, so two installations need different prefixes.",
    )
    fly_image: str = Field(
        default="registry.fly.io/webhost-dataplane:latest",
        description="Container image of the data plane that Fly machines run.",
    )
    fly_machine_size: str = Field(
        default="shared-cpu-1x",
        pattern=r"^(shared|performance)-cpu-(1|2|4|8|16)x$",
        description="Fly machine size for plans whose catalog entry names no cpu_kind/cpus.",
    )
    fly_machine_memory_mb: int = Field(
        default=1024,
        ge=256,
        multiple_of=256,
        description="Memory of a Fly machine for plans whose catalog entry names no memory_mb.",
    )
    fly_volume_gb: int = Field(
        default=10,
        ge=1,
        le=500,
        description="Size of each Fly volume for plans whose catalog entry names no storage_gb.",
    )
    fly_certificate_wait_seconds: float = Field(
        default=600.0,
        ge=0,
        le=3600,
        description="How long a Fly deployment's provisioning waits for Fly.io to issue the "
        "certificates of its stable hostnames before the step fails (and is retried).",
    )
    fly_certificate_check_seconds: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="How often Fly.io is asked to check a certificate it has not issued yet.",
    )
    fly_plane_url: str = Field(
        default="https://{app}.fly.dev",
        description="Where the control plane reaches a Fly deployment's data plane; `{app}` "
        "is replaced by the app name.",
    )
    cloudflare_api_token: SecretStr | None = Field(
        default=None,
        description="Cloudflare API token that may edit the DNS records of the zone that holds "
        "deployments' stable hostnames (cloud providers).",
    )
    cloudflare_zone_id: str | None = Field(
        default=None, description="Id of that Cloudflare zone (32 hexadecimal characters)."
    )
    cloudflare_api_base: str = Field(
        default="https://api.cloudflare.com/client/v4",
        description="Cloudflare's API (tests point it at a fake).",
    )
    base_domain: str | None = Field(
        default=None,
        description="Domain in that zone under which deployments get {slug}.api.<domain> and "
        "{slug}.sync.<domain> (cloud providers).",
    )
    hetzner_api_token: SecretStr | None = Field(
        default=None,
        description="Hetzner Cloud API token (read & write) of the project that holds the "
        "hetzner provider's shared hosts.",
    )
    hetzner_api_endpoint: str = Field(
        default="https://api.hetzner.cloud/v1",
        description="Hetzner Cloud's API (tests point it at a fake).",
    )
    hetzner_location: str = Field(
        default="nbg1", description="Hetzner location of new shared hosts (servers, volumes)."
    )
    hetzner_server_type: str = Field(
        default="cax11", description="Hetzner server type of new shared hosts."
    )
    hetzner_image: str = Field(
        default="debian-12",
        description="Operating system image of new shared hosts (cloud-init installs Docker).",
    )
    hetzner_volume_gb: int = Field(
        default=50,
        ge=10,
        le=10240,
        description="Size of each shared host's data volume (the data plane's database), in GB.",
    )
    hetzner_dataplane_image: str = Field(
        default="ghcr.io/webhost/webhost:latest",
        description="Container image a shared host runs as its data plane (webhost dataplane "
        "--embedded).",
    )
    hetzner_tenants_per_host: int = Field(
        default=150,
        ge=1,
        description="Tenants one shared host takes before a new one is created (the Hobby "
        "server's 150 customers of the product documents).",
    )
    hetzner_plane_url: str = Field(
        default="https://host-{host_id}.{base_domain}",
        description="Where the control plane reaches a shared host's data plane; {host_id} and "
        "{base_domain} are filled in (the default is a proxied Cloudflare record made with the "
        "host, so the management token travels over TLS).",
    )
    hetzner_operator_cidr: str | None = Field(
        default=None,
        description="Network (CIDR) allowed to reach shared hosts over SSH; unset: no SSH.",
    )
    hetzner_plane_boot_seconds: float = Field(
        default=900.0,
        gt=0,
        description="How long a new shared host's data plane may take to answer after its "
        "server is created (cloud-init installs Docker and pulls the image).",
    )
    hetzner_empty_host_hours: float = Field(
        default=24.0,
        ge=0,
        description="A shared host left without tenants this long is deleted by the reclaim "
        "sweep (server, volume, firewall and its DNS record).",
    )
    hetzner_action_poll_seconds: float = Field(
        default=1.0, gt=0, description="How often a running Hetzner action is checked on."
    )
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, description="Largest data-plane request body (larger: 413)."
    )
    worker_concurrency: int = Field(default=4, ge=1, description="Jobs a worker runs at once.")
    worker_heartbeat_seconds: float = Field(
        default=5.0, gt=0, description="Worker heartbeat interval."
    )
    stalled_job_seconds: float = Field(
        default=20.0, gt=0, description="A job whose worker is silent this long is retried."
    )
    yjs_compact_after: int = Field(
        default=200,
        ge=1,
        description="Updates stored per Yjs document before its log may be folded into a snapshot.",
    )
    yjs_document_max_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=1024,
        description="Largest Yjs document (encoded) for tenants whose plan sets no limit.",
    )
    yjs_max_backlog_bytes: int = Field(
        default=32 * 1024 * 1024,
        ge=64 * 1024,
        description="Unsent bytes a Yjs client may fall behind before it is disconnected (1013).",
    )
    yjs_send_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="A Yjs client whose oldest unsent message is this old is disconnected (1013).",
    )
    sync_tombstone_days: float = Field(
        default=30.0,
        gt=0,
        description="Deleted records and pushed txids are kept this long for offline sync "
        "clients; a client away longer syncs its collections from scratch.",
    )
    sync_compaction_interval_seconds: float = Field(
        default=3600.0, gt=0, description="How often a data plane compacts old tombstones."
    )
    fleet_maintenance_interval_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="How often a data plane makes room for the coming weeks' positions "
        "(partitions; a TimescaleDB hypertable makes its chunks itself) and drops the weeks past "
        "the plan's retention.",
    )
    fleet_webhook_allow_private_networks: bool = Field(
        default=False,
        description="Fleet webhooks may be delivered to loopback and private addresses "
        "(for receivers on the same machine or network).",
    )
    map_tile_url: str | None = Field(
        default=None,
        description="Map tiles of the dashboard's fleet page, e.g. "
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png; unset draws a plain grid (offline).",
    )
    map_tile_attribution: str | None = Field(
        default=None, description="Attribution shown with the map tiles (their licence asks)."
    )
    fleet_max_batch_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=64 * 1024,
        description="Largest batch of positions (POST /v1/fleet/positions body, position stream "
        "frame); larger: 413, or close code 4413 on the stream.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="Least severe log level written."
    )
    log_format: Literal["console", "json"] = Field(
        default="console", description="Log lines for people (console) or machines (json)."
    )
    debug: bool = Field(
        default=False, description="CLI errors show their full traceback instead of one line."
    )
    dataplane_database_url: SecretStr | None = Field(
        default=None,
        description="Database of a dedicated data plane, as its own login role "
        "(set by the supervisor for `webhost dataplane`).",
    )
    dataplane_tenant_id: uuid.UUID | None = Field(
        default=None,
        description="The one tenant a dedicated data plane serves "
        "(set by the supervisor for `webhost dataplane`).",
    )
    dataplane_management_token: SecretStr | None = Field(
        default=None,
        description="Bearer token of a data plane's management API (/_manage/v1), through "
        "which the control plane provisions tenants and keys on a remote plane; without it "
        "the API is not served.",
    )
    dataplane_tls_certificate_file: Path | None = Field(
        default=None,
        description="PEM certificate (chain) `webhost dataplane` serves HTTPS with; a shared "
        "host gets its Cloudflare origin certificate here. Needs the key file too.",
    )
    dataplane_tls_key_file: Path | None = Field(
        default=None,
        description="The PEM private key of WEBHOST_DATAPLANE_TLS_CERTIFICATE_FILE.",
    )
    password_hash_concurrency: int = Field(
        default=2,
        ge=1,
        description="argon2 password hashes computed at once, on threads off the event loop.",
    )
    password_hash_queue: int = Field(
        default=16,
        ge=0,
        description="Password checks that may wait for a free thread; "
        "beyond them a login or signup gets 503 with Retry-After.",
    )
    login_account_failures: int = Field(
        default=5,
        ge=1,
        description="Failed logins of one account (any address) before its logins must wait.",
    )
    login_address_failures: int = Field(
        default=20,
        ge=1,
        description="Failed logins from one client address (any account) before its logins "
        "must wait.",
    )
    login_throttle_seconds: float = Field(
        default=30.0,
        gt=0,
        description="First wait (429 with Retry-After) once the free failures are used up; "
        "each further failure doubles it.",
    )
    login_lockout_max_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="Longest wait a run of failed logins can cause (the lockout).",
    )
    login_failure_window_seconds: float = Field(
        default=900.0,
        ge=0,
        description="Failed logins are forgotten this long after the wait they caused ends.",
    )

    @field_validator("data_dir")
    @classmethod
    def _absolute_data_dir(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @model_validator(mode="after")
    def _check_port_range(self) -> Settings:
        self.dedicated_port_range  # noqa: B018 - parse now so a bad range fails at start
        return self

    @model_validator(mode="after")
    def _check_login_waits(self) -> Settings:
        if self.login_lockout_max_seconds < self.login_throttle_seconds:
            raise ValueError(
                "login_lockout_max_seconds must be at least login_throttle_seconds, got "
                f"{self.login_lockout_max_seconds} < {self.login_throttle_seconds}"
            )
        return self

    @property
    def dedicated_port_range(self) -> range:
        first, sep, last = self.dedicated_ports.partition("-")
        try:
            start, end = int(first), int(last if sep else first)
        except ValueError as exc:
            raise ValueError(
                f"dedicated_ports must look like '9100-9199', got {self.dedicated_ports!r}"
            ) from exc
        if not 1024 <= start <= end <= 65535:
            raise ValueError(f"dedicated_ports {self.dedicated_ports!r} is not a valid port range")
        return range(start, end + 1)

    @property
    def control_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def billing_enabled(self) -> bool:
        """Stripe takes payments; without both keys plans are assigned directly."""
        return self.stripe_secret_key is not None and self.stripe_webhook_secret is not None

    @property
    def edge_url(self) -> str:
        return (self.edge_public_url or f"http://{self.host}:{self.edge_port}").rstrip("/")

    @property
    def shared_plane_url(self) -> str:
        return (self.shared_data_url or f"http://{self.host}:{self.data_port}").rstrip("/")

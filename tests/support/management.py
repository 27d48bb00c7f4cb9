"""A data plane with its management API, and a client of that API, for tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr

from tests.support.servers import ServedApp
from webhost.data.app import create_data_app
from webhost.data.plane import DataPlane
from webhost.data.tenancy.scope import tenant_name_for
from webhost.db.urls import PostgresURL
from webhost.security.api_keys import NewApiKey, generate_api_key

MANAGEMENT_TOKEN = "plane-management-token-0123456789abcdef"


@dataclass
class ManagedTenant:
    """A tenant provisioned through the management API, with one key published the same way."""

    id: uuid.UUID
    name: str
    key: NewApiKey

    @property
    def path(self) -> str:
        return f"/_manage/v1/tenants/{self.id}"


def management_client(base_url: str, token: str | None = MANAGEMENT_TOKEN) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=base_url, headers=headers, timeout=60)


def provision_through_api(manage: httpx.Client, *, scope: str = "full") -> ManagedTenant:
    tenant_id = uuid.uuid4()
    tenant = ManagedTenant(id=tenant_id, name=tenant_name_for(tenant_id), key=generate_api_key())
    created = manage.put(tenant.path, json={"name": tenant.name, "limits": {}})
    assert created.status_code == 200, created.text
    published = manage.put(
        f"{tenant.path}/keys/{tenant.key.prefix}",
        json={"secret_digest": tenant.key.secret_digest, "scope": scope},
    )
    assert published.status_code == 204, published.text
    return tenant


def serve_managed_plane(database: PostgresURL, **options: Any) -> ServedApp:
    """A data plane with its management API on ``database``, served over TCP; stop() it."""

    async def build() -> Any:
        plane = DataPlane(
            database, pool_size=2, management_token=SecretStr(MANAGEMENT_TOKEN), **options
        )
        return create_data_app(plane)

    return ServedApp(build).start()

"""Which shared host a deployment goes to: a host with room, else a new one.

The choice is made in one control transaction with the candidate hosts' rows locked, so two
provisionings at once cannot both take a host's last place; the new host, when one is needed,
is recorded (``creating``) in that same transaction, and its resources are made afterwards.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from webhost.config import Settings
from webhost.control.providers.hetzner import repository
from webhost.control.providers.hetzner.models import HostStatus, SharedHost
from webhost.security.secret_box import SecretBox
from webhost.security.tokens import random_string

TOKEN_LENGTH = 48


@dataclass(frozen=True)
class HostView:
    """A host as the steps use it (never an ORM object), its management token opened."""

    id: str
    status: HostStatus
    address: str | None
    management_token: str
    created_for: uuid.UUID | None


def new_host_id() -> str:
    return f"shared-{secrets.token_hex(5)}"


class Placements:
    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        secret_box: SecretBox,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.secret_box = secret_box

    def view(self, host: SharedHost) -> HostView:
        credentials = self.secret_box.open_json(
            host.sealed_credentials, context=f"shared-host:{host.id}"
        )
        return HostView(
            id=host.id,
            status=host.status,
            address=host.address,
            management_token=str(credentials["management_token"]),
            created_for=host.created_for,
        )

    async def claim(self, deployment_id: uuid.UUID) -> HostView:
        """The deployment's host: the one it is on already, a host with room, or a new one."""
        async with self.sessions.begin() as session:
            host = await repository.placement_of(session, deployment_id)
            if host is not None:
                return self.view(host)
            host = await repository.host_with_room(session)
            if host is None:
                await repository.lock_host_creation(session)
                # another placement may have made one while this one waited for the lock
                host = await repository.host_with_room(session) or await self._new_host(
                    session, deployment_id
                )
            await repository.place(session, deployment_id, host)
            return self.view(host)

    async def _new_host(self, session: AsyncSession, deployment_id: uuid.UUID) -> SharedHost:
        host_id = new_host_id()
        token = random_string(TOKEN_LENGTH)
        host = SharedHost(
            id=host_id,
            status=HostStatus.CREATING,
            capacity=self.settings.hetzner_tenants_per_host,
            location=self.settings.hetzner_location,
            server_type=self.settings.hetzner_server_type,
            sealed_credentials=self.secret_box.seal_json(
                {"management_token": token}, context=f"shared-host:{host_id}"
            ),
            created_for=deployment_id,
        )
        session.add(host)
        await session.flush()  # before its first placement, which refers to it
        return host

    async def host_of(self, deployment_id: uuid.UUID) -> HostView | None:
        async with self.sessions() as session:
            host = await repository.placement_of(session, deployment_id)
            return self.view(host) if host is not None else None

    async def get(self, host_id: str) -> HostView | None:
        async with self.sessions() as session:
            host = await repository.get(session, host_id)
            return self.view(host) if host is not None else None

    async def mark_ready(self, host_id: str, server_id: int, address: str) -> None:
        async with self.sessions.begin() as session:
            await repository.mark_ready(session, host_id, server_id, address)

    async def release(self, deployment_id: uuid.UUID) -> HostView | None:
        """Take the deployment off its host. Returns the host when it is to be removed now: it
        was made for this deployment and no one else sits on it (a failed first placement);
        it is then ``draining``, so no placement picks it meanwhile. Other hosts left empty
        wait for the reclaim sweep."""
        async with self.sessions.begin() as session:
            host = await repository.release(session, deployment_id)
            if host is None:
                host = await repository.made_for(session, deployment_id)
            if host is None or host.created_for != deployment_id:
                return None
            if await repository.tenants_on(session, host.id) > 0:
                return None
            host.status = HostStatus.DRAINING
            return self.view(host)

    async def forget(self, host_id: str) -> None:
        async with self.sessions.begin() as session:
            await repository.remove(session, host_id)

    async def take_empty(self, host_id: str) -> bool:
        """Set an empty host draining before its resources go; False when it has tenants."""
        async with self.sessions.begin() as session:
            host = await repository.get(session, host_id, lock=True)
            if host is None or await repository.tenants_on(session, host_id) > 0:
                return False
            host.status = HostStatus.DRAINING
            return True

    @asynccontextmanager
    async def building(self, host_id: str) -> AsyncIterator[None]:
        """Held while a host's resources are made or removed: placements waiting on the same
        new host take turns, so only one of them creates each resource."""
        async with self.sessions() as session:
            connection = await session.connection(
                execution_options={"isolation_level": "AUTOCOMMIT"}
            )
            key = {"key": f"webhost shared host {host_id}"}
            await connection.execute(text("SELECT pg_advisory_lock(hashtext(:key))"), key)
            try:
                yield
            finally:
                await connection.execute(text("SELECT pg_advisory_unlock(hashtext(:key))"), key)

"""A shared host's server: created with its firewall and volume, found again, started."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from hcloud.firewalls import Firewall, FirewallResource
from hcloud.images import Image
from hcloud.locations import Location
from hcloud.server_types import ServerType
from hcloud.servers import Server
from hcloud.volumes import Volume

from webhost.control.providers.hetzner.labels import (
    MANAGED_SELECTOR,
    check_host_labels,
    host_selector,
)
from webhost.control.providers.hetzner.resources import (
    ActionState,
    CloudFirewall,
    CloudServer,
    CloudVolume,
    action_from,
    firewall_from,
    only_one,
    resource_id,
    server_from,
    volume_from,
)
from webhost.control.providers.hetzner.transport import ProjectOperations, unless_gone
from webhost.control.providers.hetzner.validation import check_name, check_user_data
from webhost.errors import ProvisioningError


def _refuse_attached_elsewhere(volume: CloudVolume, server_id: int | None) -> None:
    if volume.server_id is not None and volume.server_id != server_id:
        raise ProvisioningError(
            f"volume {volume.name!r} is attached to another server (id {volume.server_id}); "
            "detach it first"
        )


class ServerOperations(ProjectOperations):
    async def ensure_server(
        self,
        name: str,
        labels: Mapping[str, str],
        user_data: str,
        firewall: CloudFirewall,
        volume: CloudVolume,
    ) -> CloudServer:
        """The host's server, running, behind ``firewall`` and with ``volume`` attached. It is
        created from the image with ``user_data``; one found from an earlier attempt keeps the
        user data it was created with."""
        check_name("server", name)
        host_id = check_host_labels(labels)
        check_user_data(user_data)
        if volume.location != self.location:
            raise ProvisioningError(
                f"volume {volume.name!r} is in {volume.location}, but servers are made in "
                f"{self.location}; a volume attaches only to servers in its own location"
            )
        servers, volumes = self._hcloud.servers, self._hcloud.volumes

        def find_or_create() -> tuple[int, list[ActionState]]:
            selector = host_selector(host_id)
            found = only_one("server", host_id, servers.get_all(label_selector=selector))
            if found is None:
                _refuse_attached_elsewhere(volume_from(volumes.get_by_id(volume.id)), None)
                created = servers.create(
                    name=name,
                    server_type=ServerType(name=self.server_type),
                    image=Image(name=self.image),
                    location=Location(name=self.location),
                    user_data=user_data,
                    labels=dict(labels),
                    firewalls=[Firewall(id=firewall.id)],
                    volumes=[Volume(id=volume.id)],
                    automount=False,
                    start_after_create=True,
                )
                actions = [created.action, *created.next_actions]
                return resource_id(created.server.id), [action_from(action) for action in actions]
            if found.name != name or found.labels != dict(labels):
                servers.update(found, name=name, labels=dict(labels))
            # what an earlier attempt started (creation, a boot) is waited for, not repeated
            running = servers.get_actions(found, status=["running"])
            return resource_id(found.id), [action_from(action) for action in running]

        server_id, actions = await self._calls.run(f"ensuring server {name!r}", find_or_create)
        await self._calls.wait(actions, f"creating server {name!r}")
        server = await self._read_server(server_id)
        await self._attach_volume(server, volume)
        await self._apply_firewall(server, firewall)
        if server.status == "off":

            def start() -> list[ActionState]:
                if server_from(servers.get_by_id(server_id)).status != "off":
                    return []
                return [action_from(servers.power_on(Server(id=server_id)))]

            what = f"starting server {name!r}"
            await self._calls.wait(await self._calls.run(what, start), what)
        return await self._read_server(server_id)

    async def _read_server(self, server_id: int) -> CloudServer:
        read = self._hcloud.servers.get_by_id
        return await self._calls.run("reading a server", lambda: server_from(read(server_id)))

    async def _attach_volume(self, server: CloudServer, volume: CloudVolume) -> None:
        if volume.id in server.volume_ids:
            return
        volumes = self._hcloud.volumes

        def attach() -> list[ActionState]:
            current = volume_from(volumes.get_by_id(volume.id))
            if current.server_id == server.id:
                return []
            _refuse_attached_elsewhere(current, server.id)
            attached = volumes.attach(Volume(id=volume.id), Server(id=server.id), automount=False)
            return [action_from(attached)]

        what = f"attaching volume {volume.name!r} to server {server.name!r}"
        await self._calls.wait(await self._calls.run(what, attach), what)

    async def _apply_firewall(self, server: CloudServer, firewall: CloudFirewall) -> None:
        if firewall.id in server.firewall_ids:
            return
        firewalls = self._hcloud.firewalls

        def apply() -> list[ActionState]:
            if server.id in firewall_from(firewalls.get_by_id(firewall.id)).server_ids:
                return []
            resource = FirewallResource(type="server", server=Server(id=server.id))
            applied = firewalls.apply_to_resources(Firewall(id=firewall.id), [resource])
            return [action_from(action) for action in applied]

        what = f"applying firewall {firewall.name!r} to server {server.name!r}"
        await self._calls.wait(await self._calls.run(what, apply), what)

    async def server_address(self, host_id: str) -> str:
        """The public IPv4 address of the host's server."""
        selector = host_selector(host_id)
        servers = self._hcloud.servers

        def find() -> CloudServer | None:
            found = only_one("server", host_id, servers.get_all(label_selector=selector))
            return server_from(found) if found is not None else None

        server = await self._calls.run(f"looking up the server of host {host_id!r}", find)
        if server is None:
            raise ProvisioningError(f"host {host_id!r} has no server in Hetzner Cloud")
        if server.ipv4 is None:
            raise ProvisioningError(f"server {server.name!r} has no public IPv4 address")
        return server.ipv4

    async def has_server(self, host_id: str) -> bool:
        """Whether the host's server exists (a retried build must not make it new user data)."""
        selector = host_selector(host_id)
        servers = self._hcloud.servers

        def find() -> bool:
            return only_one("server", host_id, servers.get_all(label_selector=selector)) is not None

        return await self._calls.run(f"looking up the server of host {host_id!r}", find)

    async def delete_server(self, host_id: str) -> None:
        """Delete the host's server; Hetzner detaches its volume and firewall with it."""
        selector = host_selector(host_id)
        servers = self._hcloud.servers

        def delete() -> list[ActionState]:
            actions = []
            for server in servers.get_all(label_selector=selector):
                action = unless_gone(partial(servers.delete, server))
                actions.extend([action_from(action)] if action is not None else [])
            return actions

        what = f"deleting the server of host {host_id!r}"
        await self._calls.wait(await self._calls.run(what, delete), what)

    async def list_hosts(self) -> list[CloudServer]:
        """Every server WebHost manages in this project, with its labels."""
        get_all = self._hcloud.servers.get_all

        def list_managed() -> list[CloudServer]:
            return [server_from(server) for server in get_all(label_selector=MANAGED_SELECTOR)]

        return await self._calls.run("listing shared hosts", list_managed)

"""A shared host's volume (the data plane's data, mounted at /var/lib/webhost)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from hcloud.locations import Location
from hcloud.volumes import BoundVolume

from webhost.control.providers.hetzner.labels import check_host_labels, host_selector
from webhost.control.providers.hetzner.resources import (
    ActionState,
    CloudVolume,
    action_from,
    only_one,
    resource_id,
    volume_from,
)
from webhost.control.providers.hetzner.transport import ProjectOperations, unless_gone
from webhost.control.providers.hetzner.validation import check_name, check_volume_size
from webhost.errors import ProvisioningError

VOLUME_FILESYSTEM = "ext4"  # formatted by Hetzner at creation; cloud-init only mounts it


class VolumeOperations(ProjectOperations):
    async def ensure_volume(
        self, name: str, size_gb: int, labels: Mapping[str, str]
    ) -> CloudVolume:
        """The host's volume in this location, of at least ``size_gb`` (grown when smaller;
        never shrunk, which Hetzner cannot do)."""
        check_name("volume", name)
        host_id = check_host_labels(labels)
        check_volume_size(size_gb)
        volumes = self._hcloud.volumes

        def find_or_create() -> tuple[int, list[ActionState]]:
            selector = host_selector(host_id)
            found = only_one("volume", host_id, volumes.get_all(label_selector=selector))
            if found is None:
                created = volumes.create(
                    size=size_gb,
                    name=name,
                    labels=dict(labels),  # type: ignore[arg-type]
                    location=Location(name=self.location),
                    format=VOLUME_FILESYSTEM,
                )
                actions = [created.action, *created.next_actions]
                return resource_id(created.volume.id), [action_from(action) for action in actions]
            volume = volume_from(found)
            if volume.location != self.location:
                raise ProvisioningError(
                    f"volume {volume.name!r} of host {host_id!r} is in {volume.location}, "
                    f"but this host's server is made in {self.location}"
                )
            if found.name != name or found.labels != dict(labels):
                volumes.update(found, name=name, labels=dict(labels))
            if volume.size_gb < size_gb:
                return volume.id, [action_from(volumes.resize(found, size_gb))]
            return volume.id, []

        volume_id, actions = await self._calls.run(f"ensuring volume {name!r}", find_or_create)
        await self._calls.wait(actions, f"setting up volume {name!r}")
        return await self.read_volume(volume_id)

    async def read_volume(self, volume_id: int) -> CloudVolume:
        read = self._hcloud.volumes.get_by_id
        return await self._calls.run("reading a volume", lambda: volume_from(read(volume_id)))

    async def delete_volume(self, host_id: str) -> None:
        """Detach the host's volume when it is attached, then delete it and its data."""
        selector = host_selector(host_id)
        volumes = self._hcloud.volumes

        def detach() -> tuple[list[BoundVolume], list[ActionState]]:
            found = volumes.get_all(label_selector=selector)
            actions = []
            for volume in found:
                if volume.server is not None:
                    action = unless_gone(partial(volumes.detach, volume))
                    actions.extend([action_from(action)] if action is not None else [])
            return found, actions

        what = f"detaching the volume of host {host_id!r}"
        found, actions = await self._calls.run(what, detach)
        await self._calls.wait(actions, what)

        def delete() -> None:
            for volume in found:
                unless_gone(partial(volumes.delete, volume))

        await self._calls.run(f"deleting the volume of host {host_id!r}", delete)

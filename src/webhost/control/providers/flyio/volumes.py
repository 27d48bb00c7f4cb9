"""Volumes: one per machine region, where the data plane keeps its PostgreSQL."""

from __future__ import annotations

from webhost.control.providers.flyio.schemas import FlyExtendedVolume, FlyVolume, read_json
from webhost.control.providers.flyio.transport import FlyTransport, segment


async def ensure_volume(
    http: FlyTransport, app: str, name: str, region: str, size_gb: int
) -> FlyVolume:
    action = f"create volume {name} in {region} for app {app}"

    async def attempt() -> FlyVolume:
        found = await find_volume(http, app, name, region)
        if found is not None:
            return found
        response = await http.send_once(
            "POST",
            f"/v1/apps/{segment(app)}/volumes",
            json={"name": name, "region": region, "size_gb": size_gb, "encrypted": True},
            action=action,
        )
        return read_json(response, FlyVolume, action=action)

    volume = await http.retrying(attempt, action=action)
    if volume.size_gb < size_gb:
        volume = await _extend_volume(http, app, volume, size_gb)
    return volume


async def list_volumes(http: FlyTransport, app: str) -> list[FlyVolume]:
    """The app's live volumes."""
    action = f"list the volumes of app {app}"
    response = await http.send("GET", f"/v1/apps/{segment(app)}/volumes", action=action)
    return [v for v in read_json(response, list[FlyVolume], action=action) if v.live]


async def find_volume(http: FlyTransport, app: str, name: str, region: str) -> FlyVolume | None:
    """Fly.io allows several volumes of one name; the oldest live one is the deployment's."""
    volumes = await list_volumes(http, app)
    matching = [v for v in volumes if v.name == name and v.region == region]
    return min(matching, key=lambda v: (v.created_at or "", v.id)) if matching else None


async def _extend_volume(
    http: FlyTransport, app: str, volume: FlyVolume, size_gb: int
) -> FlyVolume:
    action = f"grow volume {volume.id} of app {app} to {size_gb} GB"
    response = await http.send(
        "PUT",
        f"/v1/apps/{segment(app)}/volumes/{segment(volume.id)}/extend",
        json={"size_gb": size_gb},
        action=action,
    )
    extended = read_json(response, FlyExtendedVolume, action=action).volume
    return extended or volume.model_copy(update={"size_gb": size_gb})


async def delete_volume(http: FlyTransport, app: str, volume_id: str) -> None:
    await http.send(
        "DELETE",
        f"/v1/apps/{segment(app)}/volumes/{segment(volume_id)}",
        action=f"delete volume {volume_id} of app {app}",
        accept=(404,),
    )

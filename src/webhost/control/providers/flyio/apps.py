"""The app of a deployment and what hangs on it directly: its secrets and public addresses."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

from webhost.control.providers.flyio.names import check_variable_name
from webhost.control.providers.flyio.schemas import (
    FlyApp,
    FlyIpAssignment,
    FlyIpAssignments,
    FlySecretsUpdate,
    read_json,
)
from webhost.control.providers.flyio.transport import FlyRefusal, FlyTransport, segment
from webhost.errors import ProvisioningError


async def ensure_app(http: FlyTransport, org_slug: str, name: str) -> FlyApp:
    async def attempt() -> FlyApp:
        app = await find_app(http, name)
        if app is None:
            taken = await _create_app(http, org_slug, name)
            app = await find_app(http, name)
            if app is None:
                said = "says the name is taken" if taken else "created it"
                raise ProvisioningError(f"Fly.io {said} but shows no app {name}")
        if app.organization.slug != org_slug:
            raise ProvisioningError(
                f"the Fly app name {name} is taken by the organization "
                f"{app.organization.slug!r}, not {org_slug!r}"
            )
        return app

    return await http.retrying(attempt, action=f"create app {name}")


async def find_app(http: FlyTransport, name: str) -> FlyApp | None:
    action = f"look up app {name}"
    response = await http.send("GET", f"/v1/apps/{segment(name)}", action=action, accept=(403, 404))
    if response.status_code == 403:
        # app names are global: one of an organization this token cannot see answers 403
        raise ProvisioningError(
            f"the Fly app name {name} is taken by another organization "
            f"(HTTP 403: {http.error_text(response)})"
        )
    return None if response.status_code == 404 else read_json(response, FlyApp, action=action)


async def _create_app(http: FlyTransport, org_slug: str, name: str) -> bool:
    """Create the app; True when Fly.io answered that the name is taken."""
    try:
        await http.send_once(
            "POST",
            "/v1/apps",
            json={"name": name, "org_slug": org_slug},
            action=f"create app {name}",
        )
    except FlyRefusal as refusal:
        # taken by an earlier attempt of ours or by someone else: the lookup that follows tells
        if not refusal.name_taken:
            raise
        return True
    return False


async def delete_app(http: FlyTransport, name: str) -> None:
    await http.send(
        "DELETE",
        f"/v1/apps/{segment(name)}",
        params={"force": "true"},
        action=f"delete app {name}",
        accept=(404,),
    )


async def set_secrets(http: FlyTransport, app: str, secrets: Mapping[str, str]) -> int:
    if not secrets:
        raise ProvisioningError("no secrets to set")
    for name, value in secrets.items():
        check_variable_name(name, what="secret")
        if not isinstance(value, str):
            raise ProvisioningError(f"the secret {name} must be a string")
    # the action names the secrets, never their values: it ends up in errors and logs
    action = f"set secrets {', '.join(sorted(secrets))} of app {app}"
    response = await http.send(
        "POST", f"/v1/apps/{segment(app)}/secrets", json={"values": dict(secrets)}, action=action
    )
    return read_json(response, FlySecretsUpdate, action=action).version or 0


async def unset_secrets(http: FlyTransport, app: str, names: Collection[str]) -> None:
    for name in names:
        check_variable_name(name, what="secret")
    # a null value removes a secret; one that is not set is no error
    await http.send(
        "POST",
        f"/v1/apps/{segment(app)}/secrets",
        json={"values": dict.fromkeys(names)},
        action=f"unset secrets {', '.join(sorted(names))} of app {app}",
        accept=(404,),
    )


async def ensure_ips(http: FlyTransport, app: str) -> list[FlyIpAssignment]:
    await _ensure_ip(http, app, "shared_v4", lambda ip: ip.is_shared_ipv4)
    await _ensure_ip(http, app, "v6", lambda ip: ip.is_public_ipv6)
    return await ip_assignments(http, app)


async def _ensure_ip(
    http: FlyTransport, app: str, kind: str, matches: Callable[[FlyIpAssignment], bool]
) -> None:
    action = f"assign a {kind} address to app {app}"

    async def attempt() -> None:
        if not any(matches(ip) for ip in await ip_assignments(http, app)):
            await http.send_once(
                "POST",
                f"/v1/apps/{segment(app)}/ip_assignments",
                json={"type": kind},
                action=action,
            )

    await http.retrying(attempt, action=action)


async def ip_assignments(http: FlyTransport, app: str) -> list[FlyIpAssignment]:
    action = f"list the addresses of app {app}"
    response = await http.send("GET", f"/v1/apps/{segment(app)}/ip_assignments", action=action)
    return read_json(response, FlyIpAssignments, action=action).ips or []


async def release_ips(http: FlyTransport, app: str) -> None:
    """Release every public address of the app; an app or address already gone is fine."""
    try:
        assigned = await ip_assignments(http, app)
    except FlyRefusal as refusal:
        if refusal.response_status == 404:
            return
        raise
    for ip in assigned:
        await http.send(
            "DELETE",
            f"/v1/apps/{segment(app)}/ip_assignments/{segment(ip.ip)}",
            action=f"release address {ip.ip} of app {app}",
            accept=(404,),
        )

"""An app's certificates for the deployment's stable hostnames (the Machines API's Certificates
resource): Fly's proxy answers TLS for ``{slug}.api.<base domain>`` only once it holds one.

Behind Cloudflare's proxy Let's Encrypt cannot reach the app over HTTP or TLS-ALPN, so each
certificate is validated over DNS: ``_acme-challenge.<hostname>`` is a CNAME to the target Fly
names. Adding a hostname looks for it first, so a retry never asks twice.
"""

from __future__ import annotations

from webhost.control.providers.flyio.schemas import FlyCertificate, read_json
from webhost.control.providers.flyio.transport import FlyTransport, segment


def _path(app: str, hostname: str | None = None) -> str:
    base = f"/v1/apps/{segment(app)}/certificates"
    return base if hostname is None else f"{base}/{segment(hostname)}"


async def find_certificate(http: FlyTransport, app: str, hostname: str) -> FlyCertificate | None:
    action = f"look up the certificate of {hostname} on app {app}"
    response = await http.send("GET", _path(app, hostname), action=action, accept=(404,))
    return (
        None if response.status_code == 404 else read_json(response, FlyCertificate, action=action)
    )


async def ensure_certificate(http: FlyTransport, app: str, hostname: str) -> FlyCertificate:
    """The hostname on the app with a Let's Encrypt certificate asked for (once)."""
    action = f"request a certificate for {hostname} on app {app}"

    async def attempt() -> FlyCertificate:
        found = await find_certificate(http, app, hostname)
        if found is not None:
            return found
        response = await http.send_once(
            "POST", f"{_path(app)}/acme", json={"hostname": hostname}, action=action
        )
        return read_json(response, FlyCertificate, action=action)

    return await http.retrying(attempt, action=action)


async def check_certificate(http: FlyTransport, app: str, hostname: str) -> FlyCertificate:
    """Fly validates the hostname's DNS afresh and says where its certificate stands."""
    action = f"check the certificate of {hostname} on app {app}"
    response = await http.send("POST", f"{_path(app, hostname)}/check", action=action)
    return read_json(response, FlyCertificate, action=action)


async def delete_certificate(http: FlyTransport, app: str, hostname: str) -> None:
    await http.send(
        "DELETE",
        _path(app, hostname),
        action=f"remove the certificate of {hostname} from app {app}",
        accept=(404,),
    )

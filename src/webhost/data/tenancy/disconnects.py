"""Why a plane closes the sockets of a key, and with which close code.

A key's notice (``management.REVOCATION_CHANNEL``) is its bare prefix when the key was revoked,
or the prefix and the tenant's new serving state when the control plane suspended, held or
resumed the deployment. Revoked and suspended sockets close with 44xx codes, after which
y-websocket clients stop; a held (moving) deployment's close with 1013, so they reconnect and
find it on its new plane.
"""

from __future__ import annotations

import enum

from webhost.http.websocket import CLOSE_PAYMENT_REQUIRED, CLOSE_TRY_AGAIN_LATER, CLOSE_UNAUTHORIZED


class Disconnect(enum.Enum):
    REVOKED = (CLOSE_UNAUTHORIZED, "API key revoked")
    SUSPENDED = (CLOSE_PAYMENT_REQUIRED, "this deployment is suspended")
    MOVING = (CLOSE_TRY_AGAIN_LATER, "this deployment is moving to another server; reconnect")

    @property
    def code(self) -> int:
        return self.value[0]

    @property
    def reason(self) -> str:
        return self.value[1]


_BY_STATE = {"suspended": Disconnect.SUSPENDED, "held": Disconnect.MOVING}


def read_notice(payload: str) -> tuple[str, Disconnect | None]:
    """The key's prefix, and why its sockets close (None: the deployment serves again)."""
    prefix, _, state = payload.partition(" ")
    if not state:
        return prefix, Disconnect.REVOKED
    return prefix, _BY_STATE.get(state)

"""Sync requests as HTTP and the WebSocket both take them: a checked body in, JSON text out.

The caller owns the transaction, already switched to the tenant.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from webhost.data.collections.clock import stamp_value
from webhost.data.plane import DataPlane
from webhost.data.sync import pull as pulls
from webhost.data.sync import push as pushes
from webhost.data.sync import repository
from webhost.data.sync.pull import ScopeRequest
from webhost.data.sync.schemas import MAX_MUTATIONS, PullBody, PushBody, ScopeIn, parse_envelope
from webhost.data.sync.scopes import Scope, parse_scope
from webhost.data.tenancy.scope import Tenant
from webhost.errors import WebHostError

PROTOCOL = 1


async def push(plane: DataPlane, tenant: Tenant, body: dict[str, Any]) -> str:
    """Through the plane's group commit, in a transaction of its own."""
    envelope = parse_envelope(PushBody, body)
    submission = pushes.Submission(
        envelope.client,
        [
            pushes.PushedTransaction(transaction.txid, transaction.mutations)
            for transaction in envelope.transactions
        ],
    )
    answer = await plane.pushes.push(tenant, submission)
    clock = plane.writer.clocks.of(tenant.name).now()
    return json.dumps({"transactions": answer, "clock": clock})


async def pull(
    connection: AsyncConnection, plane: DataPlane, tenant: Tenant, body: dict[str, Any]
) -> str:
    envelope = parse_envelope(PullBody, body)
    requests = [
        ScopeRequest(name, scope_of(name, wanted), wanted.cursor)
        for name, wanted in envelope.collections.items()
    ]
    parts, position = await pulls.pull(
        connection, plane.catalogue, tenant, requests, limit=envelope.limit
    )
    clock = plane.writer.clocks.of(tenant.name)
    clock.observe(stamp_value(position.clock))
    collections = ",".join(f"{json.dumps(name)}:{part}" for name, part in parts.items())
    return (
        f'{{"collections":{{{collections}}},"revision":{position.revision},'
        f'"clock":"{clock.now()}"}}'
    )


def scope_of(name: str, wanted: ScopeIn) -> Scope | WebHostError:
    try:
        return parse_scope(name, wanted.filter)
    except WebHostError as error:
        return error


async def info(connection: AsyncConnection, plane: DataPlane, tenant: Tenant) -> dict[str, Any]:
    position = await repository.read_position(connection, tenant)
    clock = plane.writer.clocks.of(tenant.name)
    clock.observe(stamp_value(position.clock))
    return {
        "protocol": PROTOCOL,
        "revision": position.revision,
        "horizon": position.horizon,
        "clock": clock.now(),
        "limits": {
            "max_body_bytes": plane.max_body_bytes,
            "max_mutations": MAX_MUTATIONS,
            "max_pull_changes": pulls.MAX_LIMIT,
            "tombstone_retention_seconds": plane.sync.tombstone_retention_seconds,
        },
    }

"""Rules of fleet webhooks: registration, the delivery log, replays and test deliveries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from webhost.data.fleet import webhooks_repository as repository
from webhost.data.fleet.webhook_schemas import WebhookCreate, WebhookPatch
from webhost.data.fleet.webhook_signing import new_secret
from webhost.errors import Conflict, InvalidInput, NotFound

MAX_WEBHOOKS = 20
DELIVERY_STATUSES = ("pending", "delivered", "failed")


async def create(connection: AsyncConnection, body: WebhookCreate) -> dict[str, Any]:
    if len(await repository.list_webhooks(connection)) >= MAX_WEBHOOKS:
        raise Conflict(f"a tenant can register {MAX_WEBHOOKS} webhooks; delete one first")
    secret = new_secret()
    created = await repository.insert_webhook(
        connection, body.url, sorted(set(body.events)), body.description, secret
    )
    return {**created, "secret": secret}


async def list_all(connection: AsyncConnection) -> list[dict[str, Any]]:
    return await repository.list_webhooks(connection)


async def require(connection: AsyncConnection, webhook_id: int) -> dict[str, Any]:
    found = await repository.get_webhook(connection, webhook_id)
    if found is None:
        raise NotFound(f"webhook {webhook_id} not found")
    return found


async def patch(connection: AsyncConnection, webhook_id: int, body: WebhookPatch) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    if any(value is None for value in changes.values()):
        raise InvalidInput("null is not a value here: leave the field out to keep it")
    if "events" in changes:
        changes["events"] = sorted(set(changes["events"]))
    if not changes:
        return await require(connection, webhook_id)
    updated = await repository.update_webhook(connection, webhook_id, changes)
    if updated is None:
        raise NotFound(f"webhook {webhook_id} not found")
    return updated


async def delete(connection: AsyncConnection, webhook_id: int) -> None:
    if not await repository.delete_webhook(connection, webhook_id):
        raise NotFound(f"webhook {webhook_id} not found")


async def deliveries(
    connection: AsyncConnection, webhook_id: int, status: str | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    await require(connection, webhook_id)
    if status is not None and status not in DELIVERY_STATUSES:
        raise InvalidInput(f"status is one of {', '.join(DELIVERY_STATUSES)}")
    return await repository.list_deliveries(connection, webhook_id, status, limit, offset)


async def replay(connection: AsyncConnection, webhook_id: int, delivery_id: int) -> dict[str, Any]:
    await require(connection, webhook_id)
    again = await repository.requeue(connection, webhook_id, delivery_id)
    if again is None:
        raise NotFound(f"delivery {delivery_id} of webhook {webhook_id} not found")
    return again


async def send_test(connection: AsyncConnection, webhook_id: int) -> None:
    webhook = await require(connection, webhook_id)
    if not webhook["active"]:
        raise Conflict("the webhook is disabled: re-enable it (PATCH active=true) first")
    ping = {"type": "ping", "created_at": datetime.now(UTC).isoformat(), "data": {}}
    await repository.enqueue(connection, [ping], only_webhook=webhook_id)


def event_payloads(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a webhook receives for fleet events: ``type``, ``created_at`` and the event."""
    now = datetime.now(UTC).isoformat()
    return [{"type": event["type"], "created_at": now, "data": event} for event in events]

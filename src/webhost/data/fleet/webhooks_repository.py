"""SQL of fleet webhooks and deliveries, in the caller's tenant transaction."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

_WEBHOOK_COLUMNS = (
    "id, url, events, description, active, disabled_reason, consecutive_failures, "
    "created_at, updated_at"
)
_DELIVERY_COLUMNS = (
    "id, webhook_id, event_type, status, attempts, "
    "CASE WHEN status = 'pending' THEN next_attempt_at END AS next_attempt_at, "
    "last_status_code, last_error, last_response_ms, created_at, delivered_at, payload"
)


async def insert_webhook(
    connection: AsyncConnection, url: str, events: list[str], description: str, secret: str
) -> dict[str, Any]:
    row = await connection.execute(
        text(
            "INSERT INTO fleet_webhooks (url, events, description, secret) "
            f"VALUES (:url, :events, :description, :secret) RETURNING {_WEBHOOK_COLUMNS}"
        ),
        {"url": url, "events": events, "description": description, "secret": secret},
    )
    return dict(row.mappings().one())


async def list_webhooks(connection: AsyncConnection) -> list[dict[str, Any]]:
    rows = await connection.execute(
        text(f"SELECT {_WEBHOOK_COLUMNS} FROM fleet_webhooks ORDER BY id")
    )
    return [dict(row) for row in rows.mappings()]


async def get_webhook(connection: AsyncConnection, webhook_id: int) -> dict[str, Any] | None:
    row = await connection.execute(
        text(f"SELECT {_WEBHOOK_COLUMNS} FROM fleet_webhooks WHERE id = :id"), {"id": webhook_id}
    )
    found = row.mappings().one_or_none()
    return dict(found) if found is not None else None


async def update_webhook(
    connection: AsyncConnection, webhook_id: int, changes: dict[str, Any]
) -> dict[str, Any] | None:
    assignments = [f"{column} = :{column}" for column in changes]
    if changes.get("active") is True:
        # re-enabled by its owner: the failure streak starts over
        assignments += ["disabled_reason = NULL", "consecutive_failures = 0"]
    row = await connection.execute(
        text(
            f"UPDATE fleet_webhooks SET {', '.join([*assignments, 'updated_at = now()'])} "
            f"WHERE id = :id RETURNING {_WEBHOOK_COLUMNS}"
        ),
        {**changes, "id": webhook_id},
    )
    found = row.mappings().one_or_none()
    return dict(found) if found is not None else None


async def delete_webhook(connection: AsyncConnection, webhook_id: int) -> bool:
    result = await connection.execute(
        text("DELETE FROM fleet_webhooks WHERE id = :id"), {"id": webhook_id}
    )
    return bool(result.rowcount)


async def enqueue(
    connection: AsyncConnection, events: list[dict[str, Any]], only_webhook: int | None = None
) -> int:
    """One pending delivery per event and active webhook that takes its type (or, for a test
    delivery, to ``only_webhook`` whatever the type); how many."""
    if not events:
        return 0
    result = await connection.execute(
        text(
            "INSERT INTO fleet_webhook_deliveries (webhook_id, event_type, payload) "
            "SELECT w.id, e.value ->> 'type', e.value "
            "FROM jsonb_array_elements(CAST(:events AS jsonb)) AS e, fleet_webhooks w "
            "WHERE w.active AND CASE WHEN CAST(:only AS bigint) IS NULL "
            "THEN e.value ->> 'type' = ANY(w.events) ELSE w.id = :only END"
        ),
        {"events": json.dumps(events), "only": only_webhook},
    )
    return int(result.rowcount)


async def list_deliveries(
    connection: AsyncConnection, webhook_id: int, status: str | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    rows = await connection.execute(
        text(
            f"SELECT {_DELIVERY_COLUMNS} FROM fleet_webhook_deliveries "
            "WHERE webhook_id = :webhook AND (CAST(:status AS text) IS NULL OR status = :status) "
            "ORDER BY id DESC LIMIT :limit OFFSET :offset"
        ),
        {"webhook": webhook_id, "status": status, "limit": limit, "offset": offset},
    )
    return [dict(row) for row in rows.mappings()]


async def requeue(
    connection: AsyncConnection, webhook_id: int, delivery_id: int
) -> dict[str, Any] | None:
    """A replay: the same payload, due now, with a fresh day of retries."""
    row = await connection.execute(
        text(
            "INSERT INTO fleet_webhook_deliveries (webhook_id, event_type, payload) "
            "SELECT webhook_id, event_type, payload FROM fleet_webhook_deliveries "
            f"WHERE id = :id AND webhook_id = :webhook RETURNING {_DELIVERY_COLUMNS}"
        ),
        {"id": delivery_id, "webhook": webhook_id},
    )
    found = row.mappings().one_or_none()
    return dict(found) if found is not None else None


async def claim_due(
    connection: AsyncConnection, lease_seconds: float, batch: int
) -> list[dict[str, Any]]:
    """Take due deliveries of active webhooks for ``lease_seconds``; a plane that dies while
    sending leaves them to be taken again when the lease runs out."""
    rows = await connection.execute(
        text(
            "UPDATE fleet_webhook_deliveries d SET attempts = d.attempts + 1, "
            "next_attempt_at = now() + make_interval(secs => :lease) "
            "FROM fleet_webhooks w WHERE w.id = d.webhook_id AND d.id IN ("
            "SELECT d2.id FROM fleet_webhook_deliveries d2 "
            "JOIN fleet_webhooks w2 ON w2.id = d2.webhook_id AND w2.active "
            "WHERE d2.status = 'pending' AND d2.next_attempt_at <= now() "
            "ORDER BY d2.next_attempt_at LIMIT :batch FOR UPDATE OF d2 SKIP LOCKED) "
            "RETURNING d.id, d.webhook_id, d.event_type, d.payload, d.attempts, d.created_at, "
            "w.url, w.secret"
        ),
        {"lease": lease_seconds, "batch": batch},
    )
    return [dict(row) for row in rows.mappings()]


async def seconds_to_next_due(connection: AsyncConnection) -> float | None:
    """When the next pending delivery of an active webhook is due, from now; None if none."""
    seconds = await connection.scalar(
        text(
            "SELECT extract(epoch FROM min(d.next_attempt_at) - now()) "
            "FROM fleet_webhook_deliveries d JOIN fleet_webhooks w ON w.id = d.webhook_id "
            "WHERE d.status = 'pending' AND w.active"
        )
    )
    return None if seconds is None else float(seconds)


async def has_due(connection: AsyncConnection) -> bool:
    found = await connection.scalar(
        text(
            "SELECT 1 FROM fleet_webhook_deliveries "
            "WHERE status = 'pending' AND next_attempt_at <= now() LIMIT 1"
        )
    )
    return found is not None


async def record_success(
    connection: AsyncConnection, delivery_id: int, webhook_id: int, status_code: int, ms: int
) -> None:
    await connection.execute(
        text(
            "UPDATE fleet_webhook_deliveries SET status = 'delivered', delivered_at = now(), "
            "last_status_code = :code, last_error = NULL, last_response_ms = :ms WHERE id = :id"
        ),
        {"id": delivery_id, "code": status_code, "ms": ms},
    )
    await connection.execute(
        text("UPDATE fleet_webhooks SET consecutive_failures = 0 WHERE id = :id"),
        {"id": webhook_id},
    )


async def record_failure(
    connection: AsyncConnection,
    delivery_id: int,
    webhook_id: int,
    *,
    status_code: int | None,
    error: str,
    ms: int | None,
    retry_at: datetime | None,
    disable_after: int,
) -> bool:
    """Schedule the retry, or give the delivery up when ``retry_at`` is None; True when the
    webhook was disabled for failing ``disable_after`` deliveries in a row."""
    await connection.execute(
        text(
            "UPDATE fleet_webhook_deliveries SET last_status_code = :code, last_error = :error, "
            "last_response_ms = :ms, status = CASE WHEN CAST(:retry_at AS timestamptz) IS NULL "
            "THEN 'failed' ELSE 'pending' END, "
            "next_attempt_at = coalesce(CAST(:retry_at AS timestamptz), next_attempt_at) "
            "WHERE id = :id"
        ),
        {
            "id": delivery_id,
            "code": status_code,
            "error": error[:500],
            "ms": ms,
            "retry_at": retry_at,
        },
    )
    disabled = await connection.execute(
        text(
            "UPDATE fleet_webhooks SET consecutive_failures = consecutive_failures + 1, "
            "active = active AND consecutive_failures + 1 < :limit, "
            "disabled_reason = CASE WHEN active AND consecutive_failures + 1 >= :limit "
            "THEN :reason ELSE disabled_reason END "
            "WHERE id = :id RETURNING NOT active AND consecutive_failures = :limit"
        ),
        {
            "id": webhook_id,
            "limit": disable_after,
            "reason": f"disabled after {disable_after} failed deliveries in a row; "
            f"last: {error[:200]}",
        },
    )
    return bool(disabled.scalar())

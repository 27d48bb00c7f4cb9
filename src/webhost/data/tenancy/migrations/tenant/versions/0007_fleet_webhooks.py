"""fleet webhooks and their delivery log

Revision ID: 0007
Revises: 0006

A delivery is a durable job: it is written in the transaction that made its event, claimed
with a lease by a data plane, and retried with back-off until it succeeds or a day has passed.
"""

from __future__ import annotations

from collections.abc import Sequence

from webhost.db.migrate import execute_script

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE fleet_webhooks (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            url text NOT NULL CHECK (length(url) BETWEEN 8 AND 2000),
            secret text NOT NULL,
            events text[] NOT NULL,
            description text NOT NULL DEFAULT '' CHECK (length(description) <= 200),
            active boolean NOT NULL DEFAULT true,
            disabled_reason text,
            consecutive_failures integer NOT NULL DEFAULT 0,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE fleet_webhook_deliveries (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            webhook_id bigint NOT NULL REFERENCES fleet_webhooks (id) ON DELETE CASCADE,
            event_type text NOT NULL,
            payload jsonb NOT NULL,
            status text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'delivered', 'failed')),
            attempts integer NOT NULL DEFAULT 0,
            next_attempt_at timestamptz NOT NULL DEFAULT now(),
            last_status_code integer,
            last_error text,
            last_response_ms integer,
            created_at timestamptz NOT NULL DEFAULT now(),
            delivered_at timestamptz
        );
        CREATE INDEX ix_fleet_webhook_deliveries_due ON fleet_webhook_deliveries (next_attempt_at)
            WHERE status = 'pending';
        CREATE INDEX ix_fleet_webhook_deliveries_webhook
            ON fleet_webhook_deliveries (webhook_id, id DESC);
        """
    )


def downgrade() -> None:
    execute_script("DROP TABLE fleet_webhook_deliveries, fleet_webhooks;")

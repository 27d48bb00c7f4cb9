"""whether a tenant is served: active, suspended (unpaid: 402) or held (moving: 503)

Revision ID: 0005
Revises: 0004

A suspended tenant's keys are answered 402 with the control plane's message (its data stays);
a held one's 503 with Retry-After while its data moves to another plane, so no write lands on a
plane that is being left.
"""

from __future__ import annotations

from collections.abc import Sequence

from webhost.db.migrate import execute_script

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    execute_script(
        """
        ALTER TABLE webhost_dataplane.tenants
            ADD CONSTRAINT tenants_status_known
                CHECK (status IN ('active', 'suspended', 'held')),
            ADD COLUMN status_message text CHECK (length(status_message) <= 500);
        """
    )


def downgrade() -> None:
    execute_script(
        """
        UPDATE webhost_dataplane.tenants SET status = 'active';
        ALTER TABLE webhost_dataplane.tenants
            DROP CONSTRAINT tenants_status_known,
            DROP COLUMN status_message;
        """
    )

"""tenant directory and API keys of a data-plane database

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

from webhost.db.migrate import execute_script

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE webhost_dataplane.tenants (
            id uuid PRIMARY KEY,
            name text NOT NULL UNIQUE,
            status text NOT NULL DEFAULT 'active',
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE webhost_dataplane.api_keys (
            prefix text PRIMARY KEY,
            tenant_id uuid NOT NULL REFERENCES webhost_dataplane.tenants (id) ON DELETE CASCADE,
            secret_digest text NOT NULL,
            revoked_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX ix_api_keys_tenant_id ON webhost_dataplane.api_keys (tenant_id);
        """
    )


def downgrade() -> None:
    execute_script("DROP TABLE webhost_dataplane.api_keys, webhost_dataplane.tenants;")

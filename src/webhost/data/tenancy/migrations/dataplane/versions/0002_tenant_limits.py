"""plan limits a data plane enforces for each tenant

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

from webhost.db.migrate import execute_script

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    execute_script(
        """
        ALTER TABLE webhost_dataplane.tenants ADD COLUMN yjs_document_max_bytes bigint
            CHECK (yjs_document_max_bytes > 0);
        """
    )


def downgrade() -> None:
    execute_script("ALTER TABLE webhost_dataplane.tenants DROP COLUMN yjs_document_max_bytes;")

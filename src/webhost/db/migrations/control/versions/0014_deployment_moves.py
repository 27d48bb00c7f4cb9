"""deployments move between shared and dedicated hosting

Revision ID: 0014
Revises: 0013

While a deployment moves to a plan of the other mode its status is ``migrating``; the move is a
workflow run of its own (``workflow = 'migrate'``) whose ledger shows each phase. The old copy
is removed after a safety window, recorded on the run (``source_removed_at``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TYPE deployment_status ADD VALUE IF NOT EXISTS 'migrating'")
    op.add_column(
        "workflow_runs", sa.Column("source_removed_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    # PostgreSQL cannot drop an enum value; a deployment left migrating goes back to active
    op.execute("UPDATE deployments SET status = 'active' WHERE status = 'migrating'")
    op.drop_column("workflow_runs", "source_removed_at")

"""key deliveries: the outbox of key changes on their way to the data planes

Revision ID: 0009
Revises: 0008

A key's creation or revocation writes one row per deployment in its own transaction; the rows
are delivered to the data planes after commit (and swept again by job recovery), so no control
transaction holds row locks across a call to a data plane.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "key_deliveries",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column(
            "deployment_id",
            sa.Uuid(),
            sa.ForeignKey("deployments.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "key_id", sa.Uuid(), sa.ForeignKey("api_keys.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "action IN ('publish', 'revoke')", name=op.f("ck_key_deliveries_action")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_deliveries")),
    )
    op.create_index(
        "ix_key_deliveries_pending",
        "key_deliveries",
        ["deployment_id", "id"],
        postgresql_where=sa.text("delivered_at IS NULL"),
    )
    op.create_index("ix_key_deliveries_key_id", "key_deliveries", ["key_id"])


def downgrade() -> None:
    op.drop_table("key_deliveries")

"""failed logins per account and client address

Revision ID: 0005
Revises: 0004

Kept in PostgreSQL so every control-plane process throttles on the same counts.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=320), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("forget_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", "subject", name=op.f("pk_login_failures")),
    )
    op.create_index(op.f("ix_login_failures_forget_at"), "login_failures", ["forget_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_login_failures_forget_at"), table_name="login_failures")
    op.drop_table("login_failures")

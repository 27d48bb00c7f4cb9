"""passwords kept as typed

Revision ID: 0004
Revises: 0003

Signups used to strip surrounding whitespace from the password while logins did not, so such
accounts could not log in. Every existing password is marked as possibly stripped: a login that
fails the exact check tries the stripped form once, then stores the password as typed.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "accounts",
        sa.Column(
            "password_maybe_stripped", sa.Boolean(), server_default=sa.false(), nullable=False
        ),
    )
    op.execute("UPDATE accounts SET password_maybe_stripped = true WHERE password_hash IS NOT NULL")


def downgrade() -> None:
    op.drop_column("accounts", "password_maybe_stripped")

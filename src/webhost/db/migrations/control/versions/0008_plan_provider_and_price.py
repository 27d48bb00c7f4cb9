"""plans: the provider that hosts them and their Stripe price

Revision ID: 0008
Revises: 0007

A plan names the provider its deployments are created on (null: the platform's default,
``WEBHOST_PROVIDER``) and the Stripe price a paid signup subscribes to (null: not sold through
Stripe; the plan is assigned directly).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("plans", sa.Column("provider", sa.String(length=40), nullable=True))
    op.add_column("plans", sa.Column("stripe_price_id", sa.String(length=100), nullable=True))


def downgrade() -> None:
    op.drop_column("plans", "stripe_price_id")
    op.drop_column("plans", "provider")

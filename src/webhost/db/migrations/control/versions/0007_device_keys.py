"""device keys: a scope per API key, and the device key's sealed secret

Revision ID: 0007
Revises: 0006

An organization's device key (scope ``ingest``) goes into the tracker URL phones are given, so
its secret is kept sealed with the secret box to show that URL again; at most one is active.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "api_keys",
        sa.Column("scope", sa.String(length=16), nullable=False, server_default="full"),
    )
    op.add_column("api_keys", sa.Column("sealed_key", sa.LargeBinary(), nullable=True))
    op.create_check_constraint(op.f("ck_api_keys_scope"), "api_keys", "scope IN ('full', 'ingest')")
    op.create_check_constraint(
        op.f("ck_api_keys_sealed_device_key"),
        "api_keys",
        "(scope = 'ingest') = (sealed_key IS NOT NULL)",
    )
    op.create_index(
        "uq_api_keys_active_device_key",
        "api_keys",
        ["organization_id"],
        unique=True,
        postgresql_where=sa.text("scope = 'ingest' AND revoked_at IS NULL"),
    )


def downgrade() -> None:
    # without a scope they would pass for full keys the next time keys are published
    op.execute("DELETE FROM api_keys WHERE scope = 'ingest'")
    op.drop_index("uq_api_keys_active_device_key", table_name="api_keys")
    op.drop_constraint(op.f("ck_api_keys_sealed_device_key"), "api_keys", type_="check")
    op.drop_constraint(op.f("ck_api_keys_scope"), "api_keys", type_="check")
    op.drop_column("api_keys", "sealed_key")
    op.drop_column("api_keys", "scope")

"""the largest Yjs document a plan allows

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from webhost.control.plans.catalog import YJS_DOCUMENT_MAX_BYTES

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("plans", sa.Column("yjs_document_max_bytes", sa.BigInteger(), nullable=True))
    for slug, limit in YJS_DOCUMENT_MAX_BYTES.items():
        op.execute(
            sa.text(
                "UPDATE plans SET yjs_document_max_bytes = :limit WHERE slug = :slug"
            ).bindparams(limit=limit, slug=slug)
        )


def downgrade() -> None:
    op.drop_column("plans", "yjs_document_max_bytes")

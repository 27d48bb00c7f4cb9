"""default plan catalog from the product documents

Revision ID: 0003
Revises: 0002

Seeded once: the operator edits the catalog afterwards, so start-up never re-inserts plans.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from webhost.control.plans.catalog import DEFAULT_PLANS

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

plans = sa.table(
    "plans",
    sa.column("id", sa.Uuid()),
    sa.column("slug", sa.String()),
    sa.column("name", sa.String()),
    sa.column("description", sa.String()),
    sa.column("price_cents", sa.Integer()),
    sa.column("currency", sa.String()),
    sa.column("billing_interval", sa.String()),
    sa.column("mode", postgresql.ENUM(name="deployment_mode", create_type=False)),
    sa.column("regions", postgresql.ARRAY(sa.String())),
    sa.column("replicas", sa.Integer()),
    sa.column("retention_days", sa.Integer()),
    sa.column("vehicle_limit", sa.Integer()),
    sa.column("api_requests_per_second", sa.Integer()),
    sa.column("gps_points_per_second", sa.Integer()),
    sa.column("concurrent_connections", sa.Integer()),
    sa.column("resources", postgresql.JSONB()),
    sa.column("features", postgresql.JSONB()),
    sa.column("is_public", sa.Boolean()),
    sa.column("sort_order", sa.Integer()),
)


def upgrade() -> None:
    rows = [
        {"id": uuid.uuid4(), "currency": "usd", "billing_interval": "month", "is_public": True}
        | plan
        for plan in DEFAULT_PLANS
    ]
    op.bulk_insert(plans, rows)


def downgrade() -> None:
    op.execute(plans.delete().where(plans.c.slug.in_([plan["slug"] for plan in DEFAULT_PLANS])))

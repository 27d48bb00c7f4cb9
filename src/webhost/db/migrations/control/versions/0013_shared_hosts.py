"""shared hosts of the hetzner provider, and which deployment sits on which host

Revision ID: 0013
Revises: 0012

A host takes tenants up to its capacity; placements are made under a lock on the host rows, so
two provisionings at once cannot overfill one. A host whose last tenant left keeps its
resources (``empty_since``) until the reclaim sweep removes it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUS = postgresql.ENUM("creating", "ready", "draining", name="shared_host_status")


def upgrade() -> None:
    STATUS.create(op.get_bind(), checkfirst=True)
    op.create_table(
        "shared_hosts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column(
            "status",
            postgresql.ENUM(name="shared_host_status", create_type=False),
            nullable=False,
        ),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("location", sa.String(length=40), nullable=False),
        sa.Column("server_type", sa.String(length=40), nullable=False),
        sa.Column("server_id", sa.BigInteger(), nullable=True),
        sa.Column("address", sa.String(length=45), nullable=True),
        sa.Column("sealed_credentials", sa.LargeBinary(), nullable=False),
        sa.Column("created_for", sa.Uuid(), nullable=True),
        sa.Column("empty_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("capacity > 0", name=op.f("ck_shared_hosts_capacity_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shared_hosts")),
    )
    op.create_table(
        "shared_host_placements",
        sa.Column("deployment_id", sa.Uuid(), nullable=False),
        sa.Column("host_id", sa.String(length=40), nullable=False),
        sa.Column(
            "placed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployments.id"],
            name=op.f("fk_shared_host_placements_deployment_id_deployments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["host_id"],
            ["shared_hosts.id"],
            name=op.f("fk_shared_host_placements_host_id_shared_hosts"),
        ),
        sa.PrimaryKeyConstraint("deployment_id", name=op.f("pk_shared_host_placements")),
    )
    op.create_index(
        op.f("ix_shared_host_placements_host_id"), "shared_host_placements", ["host_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_shared_host_placements_host_id"), table_name="shared_host_placements")
    op.drop_table("shared_host_placements")
    op.drop_table("shared_hosts")
    STATUS.drop(op.get_bind(), checkfirst=True)

"""billing through Stripe: subscriptions' Stripe ids and lifecycle, events seen once

Revision ID: 0012
Revises: 0011

A paid signup's subscription is ``incomplete`` (its deployment ``awaiting_payment``, nothing
provisioned) until Stripe confirms the checkout. A failed payment makes it ``past_due`` with a
grace period; past it, or past the end of a cancelled subscription's period, its deployments
are ``suspended`` (their planes answer 402, nothing is deleted) and, once cancelled, deletion
is scheduled after a retention window. Each Stripe event id is recorded once, so a redelivered
event changes nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TYPE subscription_status ADD VALUE IF NOT EXISTS 'incomplete'")
    op.execute("ALTER TYPE subscription_status ADD VALUE IF NOT EXISTS 'past_due'")
    op.execute("ALTER TYPE deployment_status ADD VALUE IF NOT EXISTS 'awaiting_payment'")
    op.execute("ALTER TYPE deployment_status ADD VALUE IF NOT EXISTS 'suspended'")
    for name, column in (
        ("stripe_customer_id", sa.String(length=100)),
        ("stripe_subscription_id", sa.String(length=100)),
        ("stripe_checkout_session_id", sa.String(length=200)),
        ("checkout_url", sa.Text()),
        ("current_period_end", sa.DateTime(timezone=True)),
        ("grace_until", sa.DateTime(timezone=True)),
        ("suspended_at", sa.DateTime(timezone=True)),
        ("canceled_at", sa.DateTime(timezone=True)),
        ("delete_after", sa.DateTime(timezone=True)),
    ):
        op.add_column("subscriptions", sa.Column(name, column, nullable=True))
    op.add_column(
        "subscriptions",
        sa.Column("cancel_at_period_end", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index(
        "uq_subscriptions_stripe_subscription_id",
        "subscriptions",
        ["stripe_subscription_id"],
        unique=True,
    )
    op.create_index(
        "uq_subscriptions_stripe_checkout_session_id",
        "subscriptions",
        ["stripe_checkout_session_id"],
        unique=True,
    )
    # what the deployment's data plane was last told (null: serving, as it always was)
    op.add_column("deployments", sa.Column("plane_state", sa.String(length=16), nullable=True))
    op.create_table(
        "stripe_events",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column(
            "received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_events")),
    )


def downgrade() -> None:
    op.drop_table("stripe_events")
    op.drop_column("deployments", "plane_state")
    op.drop_index("uq_subscriptions_stripe_checkout_session_id", table_name="subscriptions")
    op.drop_index("uq_subscriptions_stripe_subscription_id", table_name="subscriptions")
    for name in (
        "cancel_at_period_end",
        "delete_after",
        "canceled_at",
        "suspended_at",
        "grace_until",
        "current_period_end",
        "checkout_url",
        "stripe_checkout_session_id",
        "stripe_subscription_id",
        "stripe_customer_id",
    ):
        op.drop_column("subscriptions", name)
    # enum values cannot be dropped in PostgreSQL; rows using them go back to known states
    op.execute(
        "UPDATE subscriptions SET status = 'active' "
        "WHERE status::text IN ('incomplete', 'past_due')"
    )
    op.execute(
        "UPDATE deployments SET status = 'failed' "
        "WHERE status::text IN ('awaiting_payment', 'suspended')"
    )

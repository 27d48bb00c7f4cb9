"""deployments: the plane that serves each one now, apart from the URLs its apps are given

Revision ID: 0010
Revises: 0009

``api_url`` and ``sync_url`` stay the same for a deployment's life (the local edge, or DNS names
in cloud mode, route them); ``plane_url`` is where the edge sends its traffic today. A trigger
tells the edge (channel ``webhost_routes``) whenever a deployment's route may have changed.
Deployments made before the edge keep their URLs, which point at their plane.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("deployments", sa.Column("plane_url", sa.String(length=300), nullable=True))
    op.execute("UPDATE deployments SET plane_url = api_url WHERE api_url IS NOT NULL")
    op.execute(
        """
        CREATE FUNCTION notify_deployment_routes() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('webhost_routes', NEW.id::text);
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER deployment_routes_changed
            AFTER INSERT OR UPDATE OF plane_url, status ON deployments
            FOR EACH ROW EXECUTE FUNCTION notify_deployment_routes()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER deployment_routes_changed ON deployments")
    op.execute("DROP FUNCTION notify_deployment_routes()")
    op.drop_column("deployments", "plane_url")

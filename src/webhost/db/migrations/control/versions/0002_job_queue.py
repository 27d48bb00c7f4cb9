"""job queue (procrastinate) schema

Revision ID: 0002
Revises: 0001

The schema is procrastinate's own, at the version pinned in requirements/*.lock. Upgrading
procrastinate means adding a revision that applies its SQL migrations between the two versions
(procrastinate.schema.SchemaManager.get_migrations_path()).
"""

from __future__ import annotations

from collections.abc import Sequence

from procrastinate.schema import SchemaManager

from webhost.db.migrate import execute_script

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    execute_script(SchemaManager.get_schema())


def downgrade() -> None:
    execute_script(
        """
        DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers,
            procrastinate_jobs, procrastinate_workers CASCADE;
        DROP TYPE IF EXISTS procrastinate_job_status, procrastinate_job_event_type CASCADE;
        """
    )

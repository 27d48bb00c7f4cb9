"""per-collection sync horizons

Revision ID: 0005
Revises: 0004

A sync cursor older than its collection's horizon cannot be served incrementally: the changes
it would need are gone. ``_sync_collections.horizon`` is the highest revision compaction has
removed from the collection's change log, or the revision taken when the collection was
dropped (its records are gone without a change each). ``_sync_state.horizon`` keeps the
highest of them, for clients to read.
"""

from __future__ import annotations

from collections.abc import Sequence

from webhost.db.migrate import execute_script

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE _sync_collections (
            collection text PRIMARY KEY,
            horizon bigint NOT NULL DEFAULT 0
        );
        -- change log entries of collections dropped before this release
        DELETE FROM _changes WHERE collection NOT IN (SELECT name FROM _collections);
        """
    )


def downgrade() -> None:
    execute_script("DROP TABLE _sync_collections;")

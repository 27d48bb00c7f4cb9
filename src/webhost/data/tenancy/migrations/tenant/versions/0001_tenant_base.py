"""collections catalogue and Yjs document storage of one tenant

Revision ID: 0001
Revises:

Runs as the tenant role with the tenant schema first on the search path, so every object
created here belongs to the tenant and lives in its schema.
"""

from __future__ import annotations

from collections.abc import Sequence

from webhost.db.migrate import execute_script

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE _collections (
            name text PRIMARY KEY,
            schema text NOT NULL,
            primary_key text NOT NULL,
            auto_increment boolean NOT NULL,
            indexes jsonb NOT NULL DEFAULT '[]',
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE _yjs_documents (
            name text PRIMARY KEY,
            snapshot bytea,
            snapshot_seq bigint NOT NULL DEFAULT 0,
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE _yjs_updates (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            document text NOT NULL,
            "update" bytea NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX ix_yjs_updates_document_seq ON _yjs_updates (document, seq);
        """
    )


def downgrade() -> None:
    execute_script("DROP TABLE _yjs_updates, _yjs_documents, _collections;")

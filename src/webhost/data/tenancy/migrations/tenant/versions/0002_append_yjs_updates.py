"""the tenant's own entry point for group commit: append Yjs updates as the tenant

Revision ID: 0002
Revises: 0001

A data plane stores the updates of many tenants in one statement (one commit, one fsync), so it
cannot switch to each tenant's role with set_config first. Each tenant owns this function
instead: SECURITY DEFINER makes it run as the tenant, whoever calls it, with the search path
pinned to the tenant's schema (pg_temp last, so no temporary table can stand in for the log).
Only the tenant role itself, and the planes that may act as it, may execute it.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

from webhost.db.admin import quote_ident

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    schema = quote_ident(op.get_bind().execute(text("SELECT current_schema()")).scalar_one())
    op.execute(
        f"""
        CREATE FUNCTION {schema}.append_yjs_updates(documents text[], updates bytea[])
        RETURNS TABLE (document text, last_seq bigint)
        LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = {schema}, pg_temp
        SET statement_timeout = '30s'
        AS $$
        BEGIN
            RETURN QUERY
            WITH inserted AS (
                INSERT INTO {schema}._yjs_updates (document, "update")
                SELECT batch.name, batch.data
                FROM unnest(documents, updates) WITH ORDINALITY AS batch (name, data, position)
                ORDER BY batch.position
                RETURNING _yjs_updates.document AS name, _yjs_updates.seq AS seq
            )
            SELECT inserted.name, max(inserted.seq) FROM inserted GROUP BY inserted.name;
        END
        $$
        """
    )
    op.execute(f"REVOKE ALL ON FUNCTION {schema}.append_yjs_updates(text[], bytea[]) FROM PUBLIC")


def downgrade() -> None:
    schema = quote_ident(op.get_bind().execute(text("SELECT current_schema()")).scalar_one())
    op.execute(f"DROP FUNCTION {schema}.append_yjs_updates(text[], bytea[])")

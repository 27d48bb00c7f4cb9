"""the schema TimescaleDB lives in, where the server has it

Revision ID: 0004
Revises: 0003

As PostGIS does (0003), TimescaleDB goes into a schema of its own that every tenant may use
and nobody may create in; tenants call its functions by qualified names. The server must load
it (``shared_preload_libraries``) and creating it needs a superuser: anywhere else the schema
stays empty and positions are kept in weekly partitions of core PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

from webhost.db.migrate import execute_script

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    execute_script(
        """
        CREATE SCHEMA IF NOT EXISTS webhost_timescale;
        GRANT USAGE ON SCHEMA webhost_timescale TO PUBLIC;
        DO $$
        BEGIN
            IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')
               AND NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')
               AND 'timescaledb' = ANY(string_to_array(
                   replace(current_setting('shared_preload_libraries'), ' ', ''), ','))
               AND (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
                CREATE EXTENSION timescaledb SCHEMA webhost_timescale;
            END IF;
        END
        $$;
        """
    )


def downgrade() -> None:
    execute_script("DROP EXTENSION IF EXISTS timescaledb; DROP SCHEMA IF EXISTS webhost_timescale")

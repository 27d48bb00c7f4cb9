"""fleet limits of each tenant's plan, device keys, and the schema PostGIS lives in

Revision ID: 0003
Revises: 0002

A device key (scope ``ingest``) may only send positions: it is the credential pasted into
tracker apps, which can be given nothing but a URL.

PostGIS goes into its own schema, which every tenant may use but nobody may create in: tenants
reach it by qualified names, their search path stays their own schema. Creating an extension
needs a superuser; a database without PostGIS, or a role that may not create it, leaves the
schema empty and tenants take the core-PostgreSQL spatial path.
"""

from __future__ import annotations

from collections.abc import Sequence

from webhost.db.migrate import execute_script

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    execute_script(
        """
        ALTER TABLE webhost_dataplane.tenants
            ADD COLUMN vehicle_limit integer CHECK (vehicle_limit >= 0),
            ADD COLUMN gps_points_per_second integer CHECK (gps_points_per_second > 0),
            ADD COLUMN retention_days integer CHECK (retention_days > 0);
        ALTER TABLE webhost_dataplane.api_keys ADD COLUMN scope text NOT NULL DEFAULT 'full'
            CHECK (scope IN ('full', 'ingest'));
        CREATE SCHEMA IF NOT EXISTS webhost_gis;
        GRANT USAGE ON SCHEMA webhost_gis TO PUBLIC;
        DO $$
        BEGIN
            IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'postgis')
               AND NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'postgis')
               AND (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
                CREATE EXTENSION postgis SCHEMA webhost_gis;
            END IF;
        END
        $$;
        """
    )


def downgrade() -> None:
    execute_script(
        """
        ALTER TABLE webhost_dataplane.tenants DROP COLUMN vehicle_limit,
            DROP COLUMN gps_points_per_second, DROP COLUMN retention_days;
        ALTER TABLE webhost_dataplane.api_keys DROP COLUMN scope;
        """
    )

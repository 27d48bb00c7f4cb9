"""positions in a TimescaleDB hypertable where the database has TimescaleDB

Revision ID: 0008
Revises: 0007

``_fleet_settings.storage`` says where a tenant's positions are kept: ``partitions`` (weekly
range partitions, made ahead by the plane's fleet maintenance; 0006) or ``hypertable``. A
tenant whose positions table is still empty when this runs in a database with TimescaleDB (in
``webhost_timescale``, directory migration 0004) gets the same table as a hypertable of
weekly chunks, kept in the tenant's own schema, with the same columns, keys and indexes; a
tenant that has positions already keeps its partitions.
"""

from __future__ import annotations

from collections.abc import Sequence

from webhost.db.migrate import execute_script

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    execute_script(
        """
        ALTER TABLE _fleet_settings ADD COLUMN storage text NOT NULL DEFAULT 'partitions'
            CHECK (storage IN ('partitions', 'hypertable'));
        DO $$
        BEGIN
            IF EXISTS (
                SELECT 1 FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
                WHERE e.extname = 'timescaledb' AND n.nspname = 'webhost_timescale'
            ) AND NOT EXISTS (SELECT 1 FROM fleet_positions) THEN
                CREATE TABLE fleet_positions_hypertable (LIKE fleet_positions INCLUDING ALL);
                DROP TABLE fleet_positions;
                ALTER TABLE fleet_positions_hypertable RENAME TO fleet_positions;
                ALTER INDEX fleet_positions_hypertable_pkey RENAME TO fleet_positions_pkey;
                ALTER INDEX fleet_positions_hypertable_location_idx
                    RENAME TO ix_fleet_positions_location;
                ALTER INDEX IF EXISTS fleet_positions_hypertable_geog_idx
                    RENAME TO ix_fleet_positions_geog;
                PERFORM webhost_timescale.create_hypertable(
                    'fleet_positions', 'device_time',
                    chunk_time_interval => interval '7 days',
                    associated_schema_name => current_schema(),
                    create_default_indexes => false
                );
                UPDATE _fleet_settings SET storage = 'hypertable';
            END IF;
        END
        $$;
        """
    )


def downgrade() -> None:
    execute_script("ALTER TABLE _fleet_settings DROP COLUMN storage")

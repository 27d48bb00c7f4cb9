"""fleet tracking: vehicles, time-partitioned positions, latest positions, geofences, events

Revision ID: 0006
Revises: 0005

Positions are range-partitioned by device time, one partition a week; partitions are created
ahead by the plane's fleet maintenance and on demand for late points, and retention drops whole
partitions. ``location`` (core ``point``, longitude then latitude) serves box and
nearest-neighbour search everywhere; where PostGIS is installed in ``webhost_gis`` the tables
also get a ``geography`` column, and ``_fleet_settings.spatial`` says which path the tenant's
queries take.
"""

from __future__ import annotations

from collections.abc import Sequence

from webhost.db.migrate import execute_script

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_GEOGRAPHY = (
    "webhost_gis.geography(Point, 4326) GENERATED ALWAYS AS (webhost_gis.geography("
    "webhost_gis.st_setsrid(webhost_gis.st_makepoint(longitude, latitude), 4326))) STORED"
)


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE _fleet_settings (
            only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
            spatial text NOT NULL CHECK (spatial IN ('postgis', 'core')),
            partition_days integer NOT NULL DEFAULT 7 CHECK (partition_days > 0),
            overspeed_kmh real CHECK (overspeed_kmh > 0)
        );
        CREATE TABLE fleet_vehicles (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            identifier text NOT NULL UNIQUE
                CHECK (length(identifier) BETWEEN 1 AND 128),
            name text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
            type text NOT NULL DEFAULT 'car' CHECK (length(type) BETWEEN 1 AND 64),
            status text NOT NULL DEFAULT 'active'
                CHECK (status IN ('active', 'inactive', 'maintenance')),
            speed_limit_kmh real CHECK (speed_limit_kmh > 0),
            metadata jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE fleet_positions (
            vehicle_id bigint NOT NULL,
            device_time timestamptz NOT NULL,
            server_time timestamptz NOT NULL DEFAULT now(),
            latitude double precision NOT NULL CHECK (latitude BETWEEN -90 AND 90),
            longitude double precision NOT NULL CHECK (longitude BETWEEN -180 AND 180),
            speed real CHECK (speed >= 0),
            heading real CHECK (heading >= 0 AND heading < 360),
            altitude real,
            accuracy real CHECK (accuracy >= 0),
            battery real CHECK (battery BETWEEN 0 AND 100),
            attributes jsonb,
            location point GENERATED ALWAYS AS (point(longitude, latitude)) STORED,
            PRIMARY KEY (vehicle_id, device_time)
        ) PARTITION BY RANGE (device_time);
        CREATE INDEX ix_fleet_positions_location ON fleet_positions USING gist (location);
        CREATE TABLE fleet_latest (
            vehicle_id bigint PRIMARY KEY REFERENCES fleet_vehicles (id) ON DELETE CASCADE,
            device_time timestamptz NOT NULL,
            server_time timestamptz NOT NULL,
            latitude double precision NOT NULL,
            longitude double precision NOT NULL,
            speed real,
            heading real,
            altitude real,
            accuracy real,
            battery real,
            attributes jsonb,
            location point GENERATED ALWAYS AS (point(longitude, latitude)) STORED,
            geofences bigint[] NOT NULL DEFAULT '{}'
        );
        CREATE INDEX ix_fleet_latest_location ON fleet_latest USING gist (location);
        CREATE TABLE fleet_geofences (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
            shape text NOT NULL CHECK (shape IN ('polygon', 'circle')),
            area polygon,
            center point,
            radius_m double precision CHECK (radius_m > 0),
            bounds box NOT NULL,
            metadata jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CHECK ((shape = 'polygon' AND area IS NOT NULL)
                OR (shape = 'circle' AND center IS NOT NULL AND radius_m IS NOT NULL))
        );
        CREATE TABLE fleet_events (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            vehicle_id bigint NOT NULL,
            type text NOT NULL CHECK (type IN ('geofence_enter', 'geofence_exit', 'overspeed')),
            event_time timestamptz NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            geofence_id bigint,
            latitude double precision NOT NULL,
            longitude double precision NOT NULL,
            speed real,
            attributes jsonb NOT NULL DEFAULT '{}'
        );
        CREATE INDEX ix_fleet_events_vehicle_time ON fleet_events (vehicle_id, event_time);
        CREATE INDEX ix_fleet_events_time ON fleet_events (event_time);
        """
    )
    execute_script(
        f"""
        DO $$
        BEGIN
            IF EXISTS (
                SELECT 1 FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
                WHERE e.extname = 'postgis' AND n.nspname = 'webhost_gis'
            ) THEN
                ALTER TABLE fleet_positions ADD COLUMN geog {_GEOGRAPHY};
                CREATE INDEX ix_fleet_positions_geog ON fleet_positions USING gist (geog);
                ALTER TABLE fleet_latest ADD COLUMN geog {_GEOGRAPHY};
                CREATE INDEX ix_fleet_latest_geog ON fleet_latest USING gist (geog);
                INSERT INTO _fleet_settings (spatial) VALUES ('postgis');
            ELSE
                INSERT INTO _fleet_settings (spatial) VALUES ('core');
            END IF;
        END
        $$;
        """
    )


def downgrade() -> None:
    execute_script(
        """
        DROP TABLE fleet_events, fleet_geofences, fleet_latest, fleet_positions,
            fleet_vehicles, _fleet_settings;
        """
    )

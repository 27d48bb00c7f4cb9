"""record stamps, tombstones and the change log that sync clients pull from

Revision ID: 0004
Revises: 0003

Every record row keeps the stamps that order its writes (``stamps`` per field, ``put_stamp``,
``delete_stamp``), values written after a delete that no put has revived (``hidden``), and
``deleted_at`` while it is not alive (a tombstone, kept until compaction). Keys of collections
whose ids the client chooses become jsonb, so a number key stays a number. ``_changes`` holds,
per record, the tenant revision of its last visible change; ``_sync_state`` the tenant's
revision counter, its clock and the compaction horizon; ``_sync_transactions`` the outcome of
every pushed client transaction, so a retried push applies nothing twice.

Existing records are stamped as older than any write and entered into the change log.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

from webhost.db.admin import quote_ident
from webhost.db.migrate import execute_script

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLDEST_STAMP = "0" * 16


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE _sync_state (
            singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
            revision bigint NOT NULL DEFAULT 0,
            clock text NOT NULL DEFAULT '',
            horizon bigint NOT NULL DEFAULT 0
        );
        INSERT INTO _sync_state DEFAULT VALUES;
        CREATE TABLE _changes (
            collection text NOT NULL,
            key jsonb NOT NULL,
            revision bigint NOT NULL,
            PRIMARY KEY (collection, key)
        );
        CREATE UNIQUE INDEX ix_changes_collection_revision ON _changes (collection, revision);
        CREATE TABLE _sync_transactions (
            txid text PRIMARY KEY,
            client text NOT NULL,
            outcomes jsonb NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX ix_sync_transactions_applied_at ON _sync_transactions (applied_at);
        """
    )
    bind = op.get_bind()
    schema = bind.execute(text("SELECT current_schema()")).scalar_one()
    collections = bind.execute(
        text("SELECT name, auto_increment FROM _collections ORDER BY name")
    ).all()
    for name, auto_increment in collections:
        table = f"{quote_ident(schema)}.{quote_ident('c_' + name)}"
        key_type = "" if auto_increment else ", ALTER COLUMN pk TYPE jsonb USING to_jsonb(pk)"
        bind.execute(
            text(
                f"ALTER TABLE {table} ADD COLUMN stamps jsonb NOT NULL DEFAULT '{{}}', "
                "ADD COLUMN hidden jsonb, ADD COLUMN put_stamp text NOT NULL DEFAULT '', "
                "ADD COLUMN delete_stamp text NOT NULL DEFAULT '', "
                f"ADD COLUMN deleted_at timestamptz{key_type}"
            )
        )
        bind.execute(
            text(
                f"UPDATE {table} SET put_stamp = :oldest, stamps = coalesce("
                "(SELECT jsonb_object_agg(field, CAST(:oldest AS text)) "
                "FROM jsonb_object_keys(data) AS field), '{}')"
            ),
            {"oldest": OLDEST_STAMP},
        )
        bind.execute(
            text(
                "INSERT INTO _changes (collection, key, revision) "
                "SELECT CAST(:name AS text), to_jsonb(pk), "
                "state.revision + row_number() OVER (ORDER BY pk) "
                f"FROM {table}, _sync_state AS state"
            ),
            {"name": name},
        )
        bind.execute(
            text(
                "UPDATE _sync_state SET revision = revision + "
                "(SELECT count(*) FROM _changes WHERE collection = :name)"
            ),
            {"name": name},
        )


def downgrade() -> None:
    execute_script("DROP TABLE _sync_transactions, _changes, _sync_state;")

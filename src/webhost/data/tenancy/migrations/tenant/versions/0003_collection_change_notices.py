"""a notice on every change of the collection catalogue, so planes drop cached schemas

Revision ID: 0003
Revises: 0002

Data planes cache parsed collection schemas. Any change of a ``_collections`` row (a collection
created, its indexes changed, or dropped) sends ``<schema>.<collection>`` on the
``webhost_collections`` channel when the transaction commits, and every plane listening drops
its copy.
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
        CREATE FUNCTION _collections_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify(
                'webhost_collections',
                TG_TABLE_SCHEMA || '.'
                    || (CASE WHEN TG_OP = 'DELETE' THEN OLD.name ELSE NEW.name END)
            );
            RETURN NULL;
        END
        $$;
        CREATE TRIGGER collections_changed AFTER INSERT OR UPDATE OR DELETE ON _collections
            FOR EACH ROW EXECUTE FUNCTION _collections_changed();
        """
    )


def downgrade() -> None:
    execute_script(
        "DROP TRIGGER collections_changed ON _collections; DROP FUNCTION _collections_changed();"
    )

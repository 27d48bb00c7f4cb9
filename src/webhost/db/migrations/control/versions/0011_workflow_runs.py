"""workflow runs: each run of a workflow keeps a step ledger of its own

Revision ID: 0011
Revises: 0010

The step ledger was keyed by (deployment, workflow, step), so a second run of a workflow for a
deployment found the first run's finished steps and skipped them. Steps now belong to a run
(``workflow_runs``); at most one run per deployment and workflow is running. The ledger rows of
an existing installation become one run per (deployment, workflow) whose status follows the
deployment, so history is kept and a deployment still provisioning resumes its run.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RUN_STATUSES = ("running", "succeeded", "failed", "compensated")

# a run is running while its deployment is in the status its workflow runs in, succeeded once
# the deployment is in the one it ends in; otherwise the steps tell (all undone: compensated)
RUNS_FROM_LEDGER = """
INSERT INTO workflow_runs
    (id, deployment_id, workflow, status, parameters, error,
     created_at, updated_at, finished_at)
SELECT gen_random_uuid(), s.deployment_id, s.workflow,
       CASE
           WHEN (s.workflow = 'provision' AND d.status = 'provisioning')
             OR (s.workflow = 'deprovision' AND d.status = 'deprovisioning') THEN 'running'
           WHEN (s.workflow = 'provision' AND d.status = 'active')
             OR (s.workflow = 'deprovision' AND d.status = 'deleted') THEN 'succeeded'
           WHEN bool_and(s.status = 'undone') THEN 'compensated'
           WHEN bool_and(s.status = 'done') THEN 'succeeded'
           ELSE 'failed'
       END::run_status,
       '{}'::jsonb,
       CASE WHEN d.status = 'failed' THEN d.error END,
       min(s.created_at), max(s.updated_at),
       CASE
           WHEN (s.workflow = 'provision' AND d.status = 'provisioning')
             OR (s.workflow = 'deprovision' AND d.status = 'deprovisioning') THEN NULL
           ELSE coalesce(max(s.finished_at), max(s.updated_at))
       END
FROM provisioning_steps s JOIN deployments d ON d.id = s.deployment_id
GROUP BY s.deployment_id, s.workflow, d.status, d.error
"""


def upgrade() -> None:
    # a new value may not be used in the transaction that adds it; nothing here uses it
    op.execute("ALTER TYPE workflow ADD VALUE IF NOT EXISTS 'migrate'")
    run_status = postgresql.ENUM(*RUN_STATUSES, name="run_status")
    run_status.create(op.get_bind())
    op.create_table(
        "workflow_runs",
        sa.Column("deployment_id", sa.Uuid(), nullable=False),
        sa.Column(
            "workflow",
            postgresql.ENUM(name="workflow", create_type=False),
            nullable=False,
        ),
        sa.Column("status", postgresql.ENUM(name="run_status", create_type=False), nullable=False),
        sa.Column(
            "parameters",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployments.id"],
            name=op.f("fk_workflow_runs_deployment_id_deployments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_runs")),
    )
    op.create_index(
        op.f("ix_workflow_runs_deployment_id"), "workflow_runs", ["deployment_id"], unique=False
    )
    op.create_index(
        "uq_workflow_runs_running",
        "workflow_runs",
        ["deployment_id", "workflow"],
        unique=True,
        postgresql_where=sa.text("status = 'running'"),
    )
    op.execute(RUNS_FROM_LEDGER)

    op.add_column("provisioning_steps", sa.Column("run_id", sa.Uuid(), nullable=True))
    op.execute(
        "UPDATE provisioning_steps s SET run_id = r.id FROM workflow_runs r "
        "WHERE r.deployment_id = s.deployment_id AND r.workflow = s.workflow"
    )
    op.alter_column("provisioning_steps", "run_id", nullable=False)
    op.create_foreign_key(
        op.f("fk_provisioning_steps_run_id_workflow_runs"),
        "provisioning_steps",
        "workflow_runs",
        ["run_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_unique_constraint(
        op.f("uq_provisioning_steps_run_id"), "provisioning_steps", ["run_id", "name"]
    )
    op.drop_constraint(
        op.f("uq_provisioning_steps_deployment_id"), "provisioning_steps", type_="unique"
    )
    op.drop_index(op.f("ix_provisioning_steps_deployment_id"), table_name="provisioning_steps")
    op.drop_constraint(
        op.f("fk_provisioning_steps_deployment_id_deployments"),
        "provisioning_steps",
        type_="foreignkey",
    )
    op.drop_column("provisioning_steps", "deployment_id")
    op.drop_column("provisioning_steps", "workflow")


def downgrade() -> None:
    # the old ledger holds one run per deployment and workflow and knows no migrations: the
    # newest run of each is kept, with its steps
    op.execute("DELETE FROM workflow_runs WHERE workflow::text = 'migrate'")
    op.execute(
        "DELETE FROM workflow_runs r WHERE EXISTS (SELECT 1 FROM workflow_runs newer "
        "WHERE newer.deployment_id = r.deployment_id AND newer.workflow = r.workflow "
        "AND (newer.created_at, newer.id) > (r.created_at, r.id))"
    )
    # PostgreSQL cannot drop a value from an enum: the type is made again without it
    op.execute("ALTER TYPE workflow RENAME TO workflow_with_migrate")
    op.execute("CREATE TYPE workflow AS ENUM ('provision', 'deprovision')")

    op.add_column("provisioning_steps", sa.Column("deployment_id", sa.Uuid(), nullable=True))
    op.add_column(
        "provisioning_steps",
        sa.Column("workflow", postgresql.ENUM(name="workflow", create_type=False), nullable=True),
    )
    op.execute(
        "UPDATE provisioning_steps s SET deployment_id = r.deployment_id, "
        "workflow = r.workflow::text::workflow FROM workflow_runs r WHERE r.id = s.run_id"
    )
    op.alter_column("provisioning_steps", "deployment_id", nullable=False)
    op.alter_column("provisioning_steps", "workflow", nullable=False)
    op.create_foreign_key(
        op.f("fk_provisioning_steps_deployment_id_deployments"),
        "provisioning_steps",
        "deployments",
        ["deployment_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_index(
        op.f("ix_provisioning_steps_deployment_id"),
        "provisioning_steps",
        ["deployment_id"],
        unique=False,
    )
    op.create_unique_constraint(
        op.f("uq_provisioning_steps_deployment_id"),
        "provisioning_steps",
        ["deployment_id", "workflow", "name"],
    )
    op.drop_constraint(op.f("uq_provisioning_steps_run_id"), "provisioning_steps", type_="unique")
    op.drop_constraint(
        op.f("fk_provisioning_steps_run_id_workflow_runs"),
        "provisioning_steps",
        type_="foreignkey",
    )
    op.drop_column("provisioning_steps", "run_id")

    op.drop_index("uq_workflow_runs_running", table_name="workflow_runs")
    op.drop_index(op.f("ix_workflow_runs_deployment_id"), table_name="workflow_runs")
    op.drop_table("workflow_runs")
    op.execute("DROP TYPE run_status")
    op.execute("DROP TYPE workflow_with_migrate")

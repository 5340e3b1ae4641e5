"""task creator index: the open tasks a person planned, from one index

A supervisor's own task list holds, beside the tasks given to them, the unassigned call-backs
and other tasks they planned by hand (on a case no one manages yet). Without an index on who planned a task, that half of the list read every unassigned open
task of the installation (1,385 at 100,000 cases, ten times as many at 1,000,000) to find the
few they planned; (created_by_id, done_at, due_at) finds them at once (the planners take each
half of the list from its own index).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 15:00:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_task_creator_open_due", "task", ["created_by_id", "done_at", "due_at"], unique=False
    )


def downgrade():
    op.drop_index("ix_task_creator_open_due", table_name="task")

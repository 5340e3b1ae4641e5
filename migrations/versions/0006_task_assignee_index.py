"""task assignee index: a person's open tasks in due order from one index

The "tasks due" lists (every home page) read the open tasks assigned to one person, soonest
first. The index on the assignee alone made the database gather them all and sort, or walk every
open task of every organisation in due order; (assigned_to_id, done_at, due_at) gives them in
order. It replaces the single-column index, so a save writes no more index pages than before.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 09:00:00

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.create_index(
            "ix_task_assignee_open_due", ["assigned_to_id", "done_at", "due_at"], unique=False
        )
        batch_op.drop_index(batch_op.f("ix_task_assigned_to_id"))


def downgrade():
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_assigned_to_id"), ["assigned_to_id"], unique=False)
        batch_op.drop_index("ix_task_assignee_open_due")

"""task ended_by: why a task ended when no one did it

A task that a case's closure, its erasure or a correction of the survivor's age ended was marked
done, by the one who approved the closure: a 12-hour child check never carried out read as done
on time, and reopening the case left it done. `ended_by` names what ended it ("closed",
"erased", "not_child"); NULL for a task open or done by a person (done_by_id). Tasks a closure
or an erasure ended before this revision are found as they were written: their done_at is the
case's closed_at (or erased_at) to the microsecond, as one statement set both, while a task done
by hand has a time of its own.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 23:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ended_by", sa.String(length=16), nullable=True))
    op.execute(
        "UPDATE task SET ended_by = 'closed', done_by_id = NULL WHERE ended_by IS NULL"
        " AND EXISTS (SELECT 1 FROM case_record c WHERE c.id = task.case_id"
        " AND c.closed_at IS NOT NULL AND c.closed_at = task.done_at)"
    )
    op.execute(
        "UPDATE task SET ended_by = 'erased' WHERE ended_by IS NULL AND done_by_id IS NULL"
        " AND EXISTS (SELECT 1 FROM case_record c WHERE c.id = task.case_id"
        " AND c.erased_at IS NOT NULL AND c.erased_at = task.done_at)"
    )


def downgrade():
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_column("ended_by")

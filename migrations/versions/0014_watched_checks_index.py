"""the supervisors' 12-hour deadline list: a prohibition of contact's check beside a child's

The list of open 12-hour checks (the supervisors' home page, `/cases/tasks?list=child`) showed
the child's only; a prohibition-of-contact request's check (the commune chair decides within
12 hours, Law 13/2022) waited on no list until it was overdue, as the operator does not hold it
(casework.may_complete). The list now holds both, and its partial index covers both.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 00:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

CHILD_CHECK_OPEN = "kind = 'child_12h' AND done_at IS NULL"
WATCHED_CHECK_OPEN = "kind IN ('child_12h', 'no_contact_12h') AND done_at IS NULL"


def upgrade():
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index("ix_task_child_open")
        batch_op.create_index(
            "ix_task_watched_open",
            ["due_at"],
            unique=False,
            sqlite_where=sa.text(WATCHED_CHECK_OPEN),
            postgresql_where=sa.text(WATCHED_CHECK_OPEN),
        )
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA analysis_limit=1000")  # the new index weighed, as 0007 did
        op.execute("ANALYZE task")


def downgrade():
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index("ix_task_watched_open")
        batch_op.create_index(
            "ix_task_child_open",
            ["due_at"],
            unique=False,
            sqlite_where=sa.text(CHILD_CHECK_OPEN),
            postgresql_where=sa.text(CHILD_CHECK_OPEN),
        )

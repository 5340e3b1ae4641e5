"""queue indexes at scale: an operator's recent calls and the open child checks

With 3,000,000 calls, an operator's calls of the last days were found by reading every call of
the organisation (the index on the call's taker alone lost to the one on its organisation):
(taken_by_id, started_at) replaces the taker's index and gives them newest first. The open
12-hour child checks get a partial index (only those rows, soonest first), where the
organisation's open tasks were read to find them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 09:45:00

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

CHILD_CHECK_OPEN = "kind = 'child_12h' AND done_at IS NULL"


def upgrade():
    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.create_index("ix_call_taken_by_at", ["taken_by_id", "started_at"], unique=False)
        batch_op.drop_index(batch_op.f("ix_call_taken_by_id"))
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.create_index(
            "ix_task_child_open",
            ["due_at"],
            unique=False,
            sqlite_where=sa.text(CHILD_CHECK_OPEN),
            postgresql_where=sa.text(CHILD_CHECK_OPEN),
        )
    if op.get_bind().dialect.name == "sqlite":
        # Statistics for the two tables again, new indexes included, so the planner weighs
        # them (bounded: a sample of each index, as app/sqlite.py does). Whole tables, not the
        # new indexes alone: app/sqlite.py analyses only tables without any statistics.
        op.execute("PRAGMA analysis_limit=1000")
        op.execute("ANALYZE call")
        op.execute("ANALYZE task")


def downgrade():
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index("ix_task_child_open")
    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_call_taken_by_id"), ["taken_by_id"], unique=False)
        batch_op.drop_index("ix_call_taken_by_at")

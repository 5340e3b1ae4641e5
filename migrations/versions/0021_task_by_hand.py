"""tasks planned by hand: told apart from those a call's answers or an import set going

A supervisor's own list holds the tasks they planned by hand on a case no one manages yet.
Which tasks those were was told by their kind (a follow-up call, another task), so a commune
notification or safety re-assessment a supervisor added by hand was in no list of theirs, and a
follow-up call the register import planned under the importing supervisor's name was. The task
now says so itself (`task.by_hand`). Tasks planned before this revision: follow-up calls and
other tasks count as planned by hand, as they did; any other kind as set going.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 19:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("by_hand", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    task = sa.table("task", sa.column("kind", sa.String), sa.column("by_hand", sa.Boolean))
    op.execute(
        task.update().where(task.c.kind.in_(("follow_up_call", "other"))).values(by_hand=True)
    )


def downgrade():
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_column("by_hand")

"""tasks: what was done, kept apart from the task's own note

A duty of law is marked done with a note of what was done (session 29). That note was added to
the task's own note (the one written when the task was planned) after a line break, so the list
of finished tasks could not tell which was which. It now has its own sealed column,
`task.done_note_sealed`, under the case's data key like the task's note. Notes added before
this revision stay where they were written (sealed, they cannot be split here).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 14:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("done_note_sealed", sa.LargeBinary(), nullable=True))


def downgrade():
    # A done note cannot be moved back into the task's note here (it is sealed under the
    # case's key, bound to its column): going down loses it, as the revision's data.
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_column("done_note_sealed")

"""a call's sent key: what its intake form held when saved, as a keyed digest

An intake sent again after its save (a save whose answer was lost, the back button) was taken
for a double click whatever it held: what was typed after the first sending was dropped, the
page saying "already saved". The call now keeps a keyed digest of the form it was saved from
(`call.sent_key`, nothing of the text), so a sending holding more is told apart, and what it
adds is kept as an unsaved intake. Calls saved before this revision have none: a form of theirs
sent again is taken, as before, for the same sending.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 17:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sent_key", sa.Uuid(), nullable=True))


def downgrade():
    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.drop_column("sent_key")

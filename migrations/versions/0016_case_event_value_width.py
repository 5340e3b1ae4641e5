"""case events: room for every detail an edit changed

An edit's timeline entry names the details it changed (their field names, joined by spaces),
kept in `case_event.to_value`, `String(40)`: cut there, an edit of the name, the phone and the
address named the first two only. The column now holds 200, enough for every editable detail at
once (about 190 characters).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 08:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.alter_column(
            "to_value", existing_type=sa.String(length=40), type_=sa.String(length=200)
        )


def downgrade():
    # Longer values are cut back to what the old column held (field names of an edit only).
    op.get_bind().execute(
        sa.text(
            "UPDATE case_event SET to_value = substr(to_value, 1, 40) WHERE length(to_value) > 40"
        )
    )
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.alter_column(
            "to_value", existing_type=sa.String(length=200), type_=sa.String(length=40)
        )

"""screen pop intake key: a link opened again finds exactly the intake it made

A claimed pop remembers the key of the intake draft it made, so the operator who opened the link
and opens it again (a reload, a double click) gets that intake back, never another call's from
the same line in the same minute, even after they changed its time or channel. A link claimed
before the upgrade (a pop lives 10 minutes) and opened again afterwards shows "You have already
opened this call" with the way to the operator's unsaved intakes, where its intake is.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 08:30:00

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("screen_pop", schema=None) as batch_op:
        batch_op.add_column(sa.Column("intake_key", sa.Uuid(), nullable=True))


def downgrade():
    with op.batch_alter_table("screen_pop", schema=None) as batch_op:
        batch_op.drop_column("intake_key")

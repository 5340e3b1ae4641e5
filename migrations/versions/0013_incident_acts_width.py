"""incident acts: room for every act of the law's list ticked at once

An incident's acts are stored as their codes joined by spaces; the fifteen acts of Law 13/2022
art. 3(1) take 205 characters, one column of `String(200)`. SQLite does not hold a text to its
length, but PostgreSQL refused an incident with every act ticked (a server error on the intake,
the row refused on import). The column now holds 400.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 21:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.alter_column(
            "acts", existing_type=sa.String(length=200), type_=sa.String(length=400)
        )


def downgrade():
    # Acts longer than 200 characters would not fit back: refused rather than cut.
    longer = op.get_bind().execute(
        sa.text("SELECT count(*) FROM incident WHERE length(acts) > 200")
    ).scalar_one()
    if longer:
        raise RuntimeError(
            f"{longer} incident(s) record more acts than the old column holds; downgrading "
            "would cut them. Untick acts on those incidents first."
        )
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.alter_column(
            "acts", existing_type=sa.String(length=400), type_=sa.String(length=200)
        )

"""copy lines: one call from a line of copies kept apart

Two reloads in quick succession can leave copies of an intake kept apart, each an unsaved
intake of its own that names the intake it was kept from. With that intake discarded, two such
copies could both be saved, logging one call twice. A call saved from a copy now names the
intake its line of copies began with (`call.intake_group`, unique, indexed for those calls
only), and a second copy of the line is refused. A draft that is such a copy names the intake it was kept
from in clear too (`intake_draft.kept_from`, a random key), so the list of unsaved intakes
still marks it after its page's first autosave.
Calls and drafts already kept have neither.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 12:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

HAS_GROUP = "intake_group IS NOT NULL"


def upgrade():
    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.add_column(sa.Column("intake_group", sa.Uuid(), nullable=True))
    op.create_index(
        "ix_call_intake_group",
        "call",
        ["intake_group"],
        unique=True,
        sqlite_where=sa.text(HAS_GROUP),
        postgresql_where=sa.text(HAS_GROUP),
    )
    with op.batch_alter_table("intake_draft", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kept_from", sa.Uuid(), nullable=True))


def downgrade():
    with op.batch_alter_table("intake_draft", schema=None) as batch_op:
        batch_op.drop_column("kept_from")
    op.drop_index("ix_call_intake_group", table_name="call")
    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.drop_column("intake_group")

"""case drafts: what is typed into a case page's form, sealed until it is sent

A note, a task, an incident, an edit of the survivor's details... typed on a case page is kept
under the case's data key every few seconds, one row per person, case, form and page (two tabs
keep two), so a session that times out or a closed tab loses nothing; it is deleted when the form
is saved or discarded, and with the case when the case is erased.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 19:00:00

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "case_draft",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("form", sa.String(length=48), nullable=False),
        sa.Column("page", sa.Uuid(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("payload_sealed", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_record.id"], name=op.f("fk_case_draft_case_id_case_record")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_case_draft_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_draft")),
        sa.UniqueConstraint(
            "user_id", "case_id", "form", "page", name=op.f("uq_case_draft_user_id")
        ),
    )
    with op.batch_alter_table("case_draft", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_draft_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_draft_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("case_draft", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_draft_user_id"))
        batch_op.drop_index(batch_op.f("ix_case_draft_case_id"))

    op.drop_table("case_draft")

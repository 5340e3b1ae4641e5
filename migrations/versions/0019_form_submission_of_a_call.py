"""form submissions of a call's correction: a sending recorded with no case

A call's correction (session 30) is recorded once, as a case-page form is: its sent key goes
into `form_submission` with the change, so the same form sent again (a retry after an answer
lost) changes nothing, even when a colleague has put a field back meanwhile as the first
sending found it. A call with no case (a silent call, an information request) has no case to
name: `form_submission.case_id` may now be empty.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 17:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("form_submission", schema=None) as batch_op:
        batch_op.alter_column("case_id", existing_type=sa.Uuid(), nullable=True)


def downgrade():
    # The sendings of calls with no case go: they name no case the column could hold.
    op.execute("DELETE FROM form_submission WHERE case_id IS NULL")
    with op.batch_alter_table("form_submission", schema=None) as batch_op:
        batch_op.alter_column("case_id", existing_type=sa.Uuid(), nullable=False)

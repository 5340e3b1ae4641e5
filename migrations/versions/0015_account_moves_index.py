"""the audit log's people: staff moved out of an organisation stay in its log's User filter

An account moved to another organisation keeps its entries in the log of the one it left, but
the log's User filter listed only the organisation's staff now: its supervisors could not pick
the leaver to review what they did there. The accounts an organisation's log says were changed
(the move is written there too) are found through a small partial index of those entries.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 04:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

ACCOUNT_CHANGES = "action = 'user_updated'"


def upgrade():
    op.create_index(
        "ix_audit_entry_account_changes",
        "audit_entry",
        ["organisation_id"],
        unique=False,
        sqlite_where=sa.text(ACCOUNT_CHANGES),
        postgresql_where=sa.text(ACCOUNT_CHANGES),
    )


def downgrade():
    op.drop_index("ix_audit_entry_account_changes", table_name="audit_entry")

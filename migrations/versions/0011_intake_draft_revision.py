"""intake draft revision: which copy of an intake a page shows

A reload within seconds of typing could draw the page from the draft before the closing page's
last copy (sent as it went) reached the server; the reloaded page's next autosave then replaced
that newer text. A draft now counts its writes (`revision`) and names the page that wrote it
(`page`, a random key each page load makes, and `page_seq`, that page's count of its copies): a
page's autosave names the revision it shows, and one written meanwhile by another page is
answered with that copy, taken in by the page; a page's copy overtaken on the way by its next
is not written over it.
Drafts already kept start at revision 1.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 05:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("intake_draft", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("page", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("page_seq", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("intake_draft", schema=None) as batch_op:
        batch_op.drop_column("page_seq")
        batch_op.drop_column("page")
        batch_op.drop_column("revision")

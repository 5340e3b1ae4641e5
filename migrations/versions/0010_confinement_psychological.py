"""incident forms: isolating or confining a family member counts as psychological violence

Act `o_confinement` (Law 13/2022 art. 3(1): "cô lập, giam cầm thành viên gia đình") was counted
under the physical form; the national forms count isolation as psychological (see
docs/classifications.md). An incident's forms are derived from its acts when it is saved, so
those saved before are derived again here, from their acts, as the app now derives them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 01:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

FORMS = ("physical", "psychological", "sexual", "economic")
# The act codes and their forms as of this revision (app/classifications.py ACTS).
ACT_FORMS = {
    "a_beating": "physical",
    "b_insults": "psychological",
    "c_forced_witness": "psychological",
    "d_neglect": "psychological",
    "dd_discrimination": "psychological",
    "e_isolation": "psychological",
    "g_family_rights": "psychological",
    "h_disclosure": "psychological",
    "i_forced_sex": "sexual",
    "k_pornography": "sexual",
    "l_forced_marriage": "psychological",
    "m_property": "economic",
    "n_economic_control": "economic",
    "o_confinement": "psychological",
    "p_eviction": "economic",
}


def _forms(acts: str, mapping: dict) -> str:
    found = {mapping[a] for a in (acts or "").split() if a in mapping}
    return " ".join(f for f in FORMS if f in found)


def _derive_again(mapping: dict) -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, acts FROM incident WHERE acts LIKE '%o_confinement%'")
    ).all()
    for row in rows:
        bind.execute(
            sa.text("UPDATE incident SET forms = :forms WHERE id = :id"),
            {"forms": _forms(row.acts, mapping), "id": row.id},
        )


def upgrade():
    _derive_again(ACT_FORMS)


def downgrade():
    _derive_again({**ACT_FORMS, "o_confinement": "physical"})

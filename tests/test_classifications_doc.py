"""docs/classifications.md lists every code with its English label: checked against
app/classifications.py, so a list changed in the code and not in the page fails here."""

import re
from pathlib import Path

from flask_babel import force_locale

import app.classifications as c

DOC = Path(__file__).resolve().parents[1] / "docs" / "classifications.md"
SECTIONS = {
    "Call channels": c.CHANNELS,
    "Caller types": c.CALLER_TYPES,
    "Call reasons": c.REASONS,
    "What was done in a call": c.CALL_OUTCOMES,
    "Flags on a number": c.CALLER_FLAGS,
    "Danger questions (asked first)": c.DANGER_QUESTIONS,
    "Emergency actions (each recorded with its time)": c.EMERGENCY_ACTIONS,
    "Place types": c.PLACE_TYPES,
    "GBVIMS incident types": c.GBV_TYPES,
    "GBVIMS context (a separate field from the type)": c.GBV_CONTEXTS,
    "Child Helpline International categories (child contacts only)": c.CHI_CATEGORIES,
    "Perpetrator relationship (GBVIMS)": c.RELATIONSHIPS,
    "Perpetrator age bands (GBVIMS)": c.PERPETRATOR_AGE_BANDS,
    "Survivor age bands (national DV reporting; a child is under 16)": c.AGE_BANDS,
    "Basic support services (consent is recorded per service)": c.SERVICES,
    "Who gave consent": c.CONSENT_GIVERS,
    "Disability": c.DISABILITIES,
    "Risk levels (see risk.md)": c.RISK_LEVELS,
    "Task kinds": c.TASK_KINDS,
}


def tables() -> dict[str, list[tuple[str, ...]]]:
    """Each section's rows: (code, label) or (code, label, form)."""
    found = {}
    for section in re.split(r"^## ", DOC.read_text(encoding="utf-8"), flags=re.M)[1:]:
        title = section.splitlines()[0]
        rows = re.findall(r"^\| `([^`]+)` \| (.+?) \|(?: (.+?) \|)?$", section, flags=re.M)
        found[title] = [tuple(x for x in row if x) for row in rows]
    return found


def test_every_list_on_the_page_is_the_code_s(app):
    doc = tables()
    with app.test_request_context(), force_locale("en"):
        for title, codes in SECTIONS.items():
            assert title in doc, f"no section '{title}' in classifications.md"
            assert dict(doc[title]) == {k: str(v) for k, v in codes.items()}, title
        (acts,) = [rows for title, rows in doc.items() if title.startswith("Acts")]
        assert {code: (label, form) for code, label, form in acts} == {
            code: (str(label), str(c.FORMS[form])) for code, (label, form) in c.ACTS.items()
        }

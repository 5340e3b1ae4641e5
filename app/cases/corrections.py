"""Correcting an incident or a person who used violence recorded on a case: a date mistyped
during a call, an act ticked wrongly (the statistical forms follow the acts, so the periodic
reports count what happened), a relationship heard wrong.

A correction changes the part in place and says so: the timeline shows who corrected what and
when (the fields by name, never their values), the audit log has an entry. Two people
correcting the same part at once never overwrite each other silently: the form carries a
fingerprint of each field as its page showed it (`seen`, keyed hashes, nothing of the values).
A field a colleague corrected since keeps theirs unless this person changed it too; a field both
changed, differently, refuses the whole with the part as it now is, shown above everything
typed (each such field marked), to send again. The case's row is written with every
correction, so two sent at the same instant fail one of the two on the case's version
(views.saved_once tries it again, and the fingerprint then finds the other's change).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, fields, replace

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app import audit
from app.auth.models import User
from app.calls.models import Call
from app.cases.casework import IncidentData, PerpetratorData
from app.cases.models import Case, CaseEvent, Incident, Perpetrator
from app.cases.services import CaseError, audit_case, record_event, refuse_if_closed
from app.classifications import ACTS, forms_of
from app.crypto.datakeys import keyring
from app.extensions import db

EVENT = "correct"  # CaseEvent.kind; from_value the part's kind, to_value "<id> <data names>"

# The form's field for each value of the part (the data's name: what a correction names).
INCIDENT_FIELDS = {
    "occurred_on": "incident_date",
    "place_type": "place_type",
    "acts": "acts",
    "gbv_type": "gbv_type",
    "gbv_context": "gbv_context",
    "chi_category": "chi_category",
    "description": "incident_description",
}
PERPETRATOR_FIELDS = {
    "relationship": "perpetrator_relationship",
    "sex": "perpetrator_sex",
    "age_band": "perpetrator_age_band",
    "alcohol_or_drugs": "perpetrator_alcohol",
    "weapon_access": "perpetrator_weapon",
    "earlier_violence": "perpetrator_earlier",
    "name": "perpetrator_name",
    "notes": "perpetrator_notes",
}


BOTH_CHANGED = _l(
    "A colleague corrected this too, differently: keep yours, or take theirs shown above."
)
CHECK_FIELD = _l("This differs from the record shown above: keep yours, or take the record's.")


class PartChanged(CaseError):
    """The part was corrected by someone else after the form's page was drawn, in fields this
    person changed too (`both`, data names); `mine`: the fields this person changed."""

    def __init__(
        self, part, by: User | None, at, *, both: list[str], mine: set[str], unknown: bool
    ):
        super().__init__(_l("Not saved yet: someone corrected this after your form opened."))
        self.part, self.by, self.at = part, by, at
        self.both, self.mine = both, mine
        # The form said nothing usable of what its page showed (a page of an older release):
        # which fields anyone changed is not known, only which differ from the record.
        self.unknown = unknown


def form_class(case: Case, kind: str):
    """The correction form of that kind of part, for this case."""
    from app.cases import forms  # forms build on the calls package, which builds on cases

    if kind == "incident":
        return forms.IncidentCorrectionForm.for_case(case)
    return forms.PerpetratorCorrectionForm


# The parts a correction's draft may name (app/cases/drafts.py): a call on the case too, whose
# correction is app/calls/corrections.py.
MODELS = {"incident": Incident, "perpetrator": Perpetrator, "call": Call}


def find_part(case: Case, kind: str, part_id: uuid.UUID):
    """The case's incident, person or call of that id, or None (another case's, or none)."""
    model = MODELS[kind]
    stmt = select(model).where(model.id == part_id, model.case_id == case.id)
    return db.session.execute(stmt).scalar_one_or_none()


def refuse_part(case: Case, kind: str, part_id: uuid.UUID, by: User) -> None:
    """A part named under a case it is not part of (a page's address, an autosave's form
    name): the refusal written to the log of the case named and, when the part is another
    case's, to that case's organisation's log too, whose record it is (as a refused case is);
    nothing told of it. In the caller's transaction."""
    audit_case("denied", case, by, detail=f"{kind}:{part_id}")
    model = MODELS[kind]
    owner = db.session.execute(
        select(Case.id, Case.organisation_id)
        .join(model, model.case_id == Case.id)
        .where(model.id == part_id, Case.id != case.id)
    ).first()
    if owner is not None:
        audit.record(
            "denied",
            user=by,
            object_type=kind,
            object_id=part_id,
            case_id=owner.id,
            organisation_id=owner.organisation_id,
            detail=f"named under case {case.number}",
        )


def data_of(part) -> IncidentData | PerpetratorData:
    """The part's values as its form's data (the sealed ones opened)."""
    if isinstance(part, Incident):
        return IncidentData(
            occurred_on=part.occurred_on,
            place_type=part.place_type,
            acts=part.acts.split(),
            gbv_type=part.gbv_type,
            gbv_context=part.gbv_context,
            chi_category=part.chi_category,
            description=part.description,
        )
    return PerpetratorData(
        relationship=part.relationship_code,
        sex=part.sex,
        age_band=part.age_band,
        alcohol_or_drugs=part.alcohol_or_drugs,
        weapon_access=part.weapon_access,
        earlier_violence=part.earlier_violence,
        name=part.name,
        notes=part.notes,
    )


def plain(data) -> dict:
    """The data as compared: blanks as None, text trimmed, line ends as a browser sends them."""
    out = {}
    for name, value in asdict(data).items():
        if isinstance(value, str):
            value = value.replace("\r\n", "\n").strip() or None
        elif isinstance(value, list):
            value = sorted(value)
        out[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return out


def _mark(name: str, value) -> str:
    """A field's value as a form carries it: 8 hex digits of a keyed hash (nothing of it)."""
    text = json.dumps([name, value], ensure_ascii=False)
    return keyring().lasting_hash(text, purpose="part-seen")[:8]


def marks(values: dict) -> dict:
    """Each field's mark (`_mark`), by name."""
    return {name: _mark(name, value) for name, value in values.items()}


def fingerprint(part) -> str:
    """What a form carries of the part as its page showed it (`seen`): a keyed hash of each
    field's value, in the data's order, joined by dots (a page's hidden field says nothing of
    the values; a field a colleague corrected since is told apart from the others)."""
    return ".".join(marks(plain(data_of(part))).values())


def shown_marks(seen: str | None, names) -> dict | None:
    """The marks a form carries, by field; None when it carries none that fit."""
    carried = (seen or "").split(".")
    if len(carried) != len(names) or not all(len(m) == 8 for m in carried):
        return None
    return dict(zip(names, carried, strict=True))


@dataclass
class Clash:
    """Fields a colleague and this person both changed, differently, since the page was drawn
    (`both`); the fields this person changed (`mine`); `unknown`: the form said nothing usable
    of what its page showed."""

    both: list[str]
    mine: set[str]
    unknown: bool


def merge(stored, data, seen: str | None) -> Clash | None:
    """Compare what the page showed (`seen`'s marks) with the record as stored now and with
    the data typed: a field a colleague changed since and this person left alone takes the
    colleague's value (set on `data`); a field both changed, differently, is a Clash (nothing
    set). None when nothing stands in the way."""
    now, typed = plain(stored), plain(data)
    shown = shown_marks(seen, list(now))
    marks_now, marks_typed = marks(now), marks(typed)
    theirs = set(now) if shown is None else {n for n in now if marks_now[n] != shown[n]}
    if not theirs:
        return None
    mine = set(typed) if shown is None else {n for n in typed if marks_typed[n] != shown[n]}
    both = [n for n in now if n in theirs and n in mine and typed[n] != now[n]]
    if both:
        return Clash(both, mine, shown is None)
    for name in theirs - mine:  # theirs, kept: this person left it as the page showed it
        setattr(data, name, getattr(stored, name))
    return None


def form_values(part) -> dict:
    """The part's values under its form's field names, to fill the form with."""
    data = asdict(data_of(part))
    names = INCIDENT_FIELDS if isinstance(part, Incident) else PERPETRATOR_FIELDS
    values = {names[k]: v for k, v in data.items()}
    for name, value in values.items():
        if value is None and name not in ("incident_date",):
            values[name] = ""
    return values


def refill(form, part, *, keep: set[str], marked: list[str], unknown: bool = False) -> None:
    """A correction form met by a colleague's: the fields this person did not change (`keep`
    holds those they did, by data name) take the part's values as they now are; each field
    both changed says so."""
    names = INCIDENT_FIELDS if isinstance(part, Incident) else PERPETRATOR_FIELDS
    refill_fields(form, form_values(part), names, keep=keep, marked=marked, unknown=unknown)


def refill_fields(
    form, now: dict, names: dict, *, keep: set[str], marked: list[str], unknown: bool
) -> None:
    """refill for any corrected record: `now` its values by form field, `names` each data
    name's form field (a call's: the same names)."""
    for name, field_name in names.items():
        if field_name not in form:
            continue
        field = form[field_name]
        if name not in keep:
            field.data, field.raw_data = now[field_name], None
        if name in marked:
            field.errors = [*field.errors, str(CHECK_FIELD if unknown else BOTH_CHANGED)]


def as_opened(case: Case, part):
    """The correction form as its page opens, for a draft to be compared with (drafts._start):
    its values as stored, a date as the page shows it (dd/mm/yyyy), so a draft holding them
    and nothing else holds nothing typed."""
    form = form_class(case, "incident" if isinstance(part, Incident) else "perpetrator")(
        formdata=None, data=form_values(part), meta={"csrf": False}
    )
    if isinstance(part, Incident) and part.occurred_on is not None:
        form.incident_date.data = part.occurred_on.strftime("%d/%m/%Y")
    return form


def last_correction(case: Case, part) -> CaseEvent | None:
    """The newest correction of the part on the case's timeline (who made it, when)."""
    stmt = (
        select(CaseEvent)
        .where(
            CaseEvent.case_id == case.id,
            CaseEvent.kind == EVENT,
            CaseEvent.to_value.startswith(f"{part.id} ", autoescape=True),
        )
        .order_by(CaseEvent.at.desc())
        .limit(1)
    )
    return db.session.execute(stmt).scalar_one_or_none()


def correct(
    *, case: Case, part, by: User, data: IncidentData | PerpetratorData, seen: str | None
) -> list[str]:
    """Correct the part with the data typed; gives the names of the fields changed (none:
    nothing written). The page showed the part as `seen` says: a field a colleague corrected
    since keeps theirs unless this person changed it too, and a field both changed, each
    differently, refuses the whole (PartChanged, naming those fields), to be seen first.
    Commits."""
    refuse_if_closed(case)
    incident = isinstance(part, Incident)
    # A copy: a try met by another write is made again with the data as typed (views.saved_once).
    data = replace(data, acts=list(data.acts)) if incident else replace(data)
    if incident:
        data.acts = [a for a in data.acts if a in ACTS]
        if not case.is_child:
            # An adult's case asks no Child Helpline category: one the incident got while the
            # case was a child's (its age corrected since) stays as it is.
            data.chi_category = part.chi_category
    stored = data_of(part)
    clash = merge(stored, data, seen)
    if clash is not None:
        event = last_correction(case, part)
        who = db.session.get(User, event.by_id) if event and event.by_id else None
        raise PartChanged(
            part,
            who,
            event.at if event else None,
            both=clash.both,
            mine=clash.mine,
            unknown=clash.unknown,
        )
    now, typed = plain(stored), plain(data)
    changed = [f.name for f in fields(data) if now[f.name] != typed[f.name]]
    if not changed:
        db.session.commit()  # the form's sending recorded, its draft gone: nothing else
        return []
    for name in changed:
        value = getattr(data, name)
        if isinstance(value, str):
            value = value.strip() or None
        if incident and name == "acts":
            part.acts = " ".join(value)
            part.forms = " ".join(forms_of(value))
        elif incident and name == "place_type":
            part.place_type = value or "unknown"
        elif not incident and name == "relationship":
            part.relationship_code = value or "unknown"
        else:
            setattr(part, name, value)
    kind = "incident" if incident else "perpetrator"
    named = " ".join(changed)
    record_event(case, by=by, kind=EVENT, old=kind, new=f"{part.id} {named}")
    audit_case("update", case, by, detail=f"{kind}:{part.id} corrected {named}")
    db.session.commit()
    return changed

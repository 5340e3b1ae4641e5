"""One row of an old register, checked and turned into an intake: errors keep the row out,
warnings say what was done with something that did not fit (see docs/import.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from app.calls.intake import Intake, Survivor
from app.cases import risk
from app.cases.ages import MAX_AGE, age_problem, years_since
from app.cases.casework import IncidentData, PerpetratorData
from app.cases.register.cells import Cells
from app.cases.register.places import read_places
from app.cases.register.row_keys import earlier_key_bases, key_basis
from app.cases.register.values import is_nothing, read_age
from app.cases.register.vocabularies import VOCABULARIES
from app.classifications import RISK_LEVELS
from app.clock import LOCAL, local_midnight, local_today, utcnow
from app.crypto.blind import normalise_phone
from app.form_fields import ADDRESS_LENGTH, NAME_LENGTH, TEXT_LENGTH

EARLIEST = date(1990, 1, 1)  # a call "before 1990" is a mistake in the year
SLACK = timedelta(minutes=5)  # a clock a little ahead of the server's
# Columns only a case has: a row filling any of them opens one, whatever its reason.
CASE_COLUMNS = (
    "acts", "incident_date", "place_type", "gbv_type", "gbv_context", "chi_category",
    "description", "perpetrator_relationship", "perpetrator_sex", "perpetrator_age",
    "perpetrator_name", "alcohol_or_drugs", "weapon_access", "earlier_violence", "risk",
    "risk_factors", "services", "counselling", "status", "closed_on", "safe_contact",
)  # fmt: skip
SURVIVOR_COLUMNS = (
    "sex", "age", "age_band", "birth_date", "ethnicity", "disability", "province", "commune",
    "address",
)  # fmt: skip
# A status or closing date alone opens no case: call registers mark every call done.
OPENING_COLUMNS = tuple(name for name in CASE_COLUMNS if name not in ("status", "closed_on"))
# "không", "không rõ", and the classifications' own "none of these" and "not violence":
# answers that say nothing of a case (a register may tag every call so).
NO_ANSWER = ("no", "unknown", "none", "non_gbv", "non_violence")
INCIDENT_COLUMNS = CASE_COLUMNS[:7]
PERPETRATOR_COLUMNS = CASE_COLUMNS[7:14]
PERPETRATOR_BANDS = ((11, "0_11"), (17, "12_17"), (25, "18_25"), (40, "26_40"), (60, "41_60"))
# Words the import writes into every row it reads (sealed with the row), translated once per
# language instead of once a row (Flask-Babel finds the catalogue again on every call).
OLD_ID = _l("Old register id: %(id)s")
COUNSELLING_GIVEN = _l("Counselling given: %(text)s")
# Reasons of a call that is advice: what the counselling column says is the call's own content,
# not a case's (a counselling register fills it in for every call).
ADVICE_REASONS = ("counselling", "information")
RISK_AS_RECORDED = _l("Risk level as recorded in the old register.")
_TRANSLATED: dict[tuple[str, int], str] = {}


def translated(message: LazyString) -> str:
    """The message in the current language (the same text str(message) gives)."""
    key = (str(get_locale()), id(message))  # one of this module's messages
    text = _TRANSLATED.get(key)
    if text is None:
        text = _TRANSLATED[key] = str(message)
    return text


@dataclass
class ImportedIntake(Intake):
    """An intake read from a register row, with what the intake form has no field for."""

    row: int = 0
    external_id: str | None = None
    status: str = "open"
    closed_on: date | None = None
    key_basis: str = field(default="", repr=False)
    earlier_bases: tuple[str, ...] = field(default=(), repr=False)  # row_keys.earlier_key_bases
    # Each phone number as written, normalised as its blind index takes it: worked out by the
    # check, so the save (in turn with the other process) only hashes it (app/cases/bulk.py).
    phones: dict[str, str | None] = field(default_factory=dict, repr=False)

    def clock_start(self, started_at: datetime) -> datetime:
        """An old call's child-protection tasks are work from the import on (docs/import.md),
        not years overdue."""
        return utcnow()


def perpetrator_band(age: int) -> str:
    """The GBVIMS perpetrator age band of an age in years."""
    return next((band for limit, band in PERPETRATOR_BANDS if age <= limit), "61_plus")


def validate_row(row: dict) -> tuple[ImportedIntake | None, list, list]:
    """Check one row: (the intake, or None when an error keeps it out; errors; warnings)."""
    cells = Cells(row)
    today = local_today()
    when = cells.day("date")
    # A cell saying there is no date ("-", "không rõ") is an empty cell: the call is refused,
    # not dated today.
    if when is None and (not cells.has("date") or is_nothing(cells.texts["date"])):
        cells.problem(
            _l(
                "column '%(column)s' is empty: every call needs its date.",
                column=cells.heading("date"),
            )
        )
    elif when and not EARLIEST <= when[0] <= today:
        cells.problem(
            _l(
                "column '%(column)s': %(value)s is in the future or before 1990.",
                column=cells.heading("date"),
                value=cells.show("date"),
            )
        )
    day = when[0] if when else today
    intake = ImportedIntake(
        reason=cells.code("reason") or "violence_report",
        channel=cells.code("channel") or "phone",
        caller_type=cells.code("caller_type") or "survivor",
        started_at=local_midnight(day, cells.clock("time") or (when[1] if when else None)),
        caller_name=cells.text("caller_name"),
        caller_phone=cells.phone("caller_phone"),
        external_id=cells.old_id(),
    )
    if when and when[0] == today and intake.started_at > utcnow() + SLACK:
        column = "time" if cells.has("time") else "date"
        cells.problem(
            _l(
                "column '%(column)s': %(value)s today is later than now.",
                column=cells.heading(column),
                value=f"{intake.started_at.astimezone(LOCAL):%H:%M}",
            )
        )
    opening = OPENING_COLUMNS
    if intake.reason in ADVICE_REASONS:
        opening = tuple(name for name in opening if name != "counselling")
    intake.open_case = intake.reason == "violence_report" or any(
        _tells(cells, name) for name in opening
    )
    if intake.open_case:
        _case(cells, intake, day, today)
    else:
        _call_only(cells, intake)
    intake.key_basis = key_basis(cells, intake.external_id, when[0] if when else None)
    intake.earlier_bases = earlier_key_bases(cells, intake.external_id, intake.key_basis)
    if cells.errors:
        return None, cells.errors, cells.warnings
    numbers = (intake.caller_phone, intake.survivor.phone if intake.survivor else None)
    intake.phones = {number: normalise_phone(number) for number in numbers if number}
    return intake, cells.errors, cells.warnings


def _tells(cells: Cells, name: str) -> bool:
    """Whether a cell says something of a case: not empty, "-", "không" or "không rõ"."""
    if not cells.has(name):
        return False
    text, vocabulary = cells.texts[name], VOCABULARIES.get(name)
    code = vocabulary.match(text) if vocabulary is not None else None
    if code is not None:  # read by its list first: "x" ticks yes, "không" says no
        return code not in NO_ANSWER
    return not is_nothing(text)


def _call_only(cells: Cells, intake: ImportedIntake) -> None:
    """A call that opens no case: who called and what was said; survivor details are not kept."""
    unused = list(SURVIVOR_COLUMNS + CASE_COLUMNS)
    if intake.caller_name:
        unused.append("survivor_name")
    else:
        intake.caller_name = cells.text("survivor_name", limit=NAME_LENGTH)
    if intake.caller_phone:
        unused.append("phone")
    else:
        intake.caller_phone = cells.phone("phone")
    intake.narrative = _summary(cells, intake.external_id)
    if intake.reason in ADVICE_REASONS and _tells(cells, "counselling"):
        # The advice given is what the call was: kept in its narrative, after the summary.
        unused.remove("counselling")
        if advice := cells.text("counselling"):  # too long: the row's error, said
            given = translated(COUNSELLING_GIVEN) % {"text": advice}
            intake.narrative = f"{intake.narrative}\n{given}" if intake.narrative else given
    dropped = [cells.heading(name) for name in unused if cells.has(name)]
    if dropped:
        cells.note(
            _l(
                "the reason for this call opens no case, so the columns %(columns)s "
                "were not imported.",
                columns=", ".join(f"'{h}'" for h in dropped),
            )
        )


def _case(cells: Cells, intake: ImportedIntake, day: date, today: date) -> None:
    """The survivor, what happened, who did it, the risk and where the case stands."""
    birth = cells.day("birth_date")
    if birth and not day.replace(year=day.year - MAX_AGE, day=min(day.day, 28)) <= birth[0] <= day:
        cells.problem(
            _l(
                "column '%(column)s': %(value)s is after the date of the call, "
                "or more than 120 years before it.",
                column=cells.heading("birth_date"),
                value=cells.show("birth_date"),
            )
        )
    province, commune, leftovers = read_places(cells)
    phone = cells.phone("phone")
    address = ", ".join(t for t in (cells.text("address"), *leftovers) if t) or None
    if address and len(address) > ADDRESS_LENGTH:
        # The place names not found in the official list go after the address: together they
        # must fit the case's address as its edit page takes it.
        named = next(n for n in ("address", "commune", "province") if cells.has(n))
        cells.too_long(cells.heading(named), ADDRESS_LENGTH)
        address = None
    intake.survivor = Survivor(
        name=cells.text("survivor_name", limit=NAME_LENGTH),
        sex=cells.code("sex") or "unknown",
        birth_date=birth[0] if birth else None,
        age=cells.age("age"),
        age_band=cells.code("age_band") or "unknown",
        disability=cells.code("disability"),
        ethnicity=cells.code("ethnicity"),
        phone=phone,
        address=address,
        province_code=province,
        commune_code=commune,
        safe_contact=cells.text("safe_contact"),
    )
    told = intake.survivor.age
    if birth and told is not None and birth[0] <= day:
        # An age beside the date agrees with it (ages.age_problem), as at intake: otherwise
        # the row's child-protection path would hang on which of the two is the slip.
        if age_problem(told, birth[0], day) is not None:
            cells.problem(
                _l(
                    "column '%(column)s': '%(value)s' does not match the date of birth "
                    "(%(years)d on the day of the call).",
                    column=cells.heading("age"),
                    value=cells.show("age"),
                    years=years_since(birth[0], day),
                )
            )
    if intake.caller_type in ("survivor", "child_self"):
        intake.caller_phone = intake.caller_phone or phone  # a later call finds the case
    intake.summary = _summary(cells, intake.external_id)
    intake.services_wanted = cells.codes("services")
    intake.counselling = cells.text("counselling")
    if cells.has(*INCIDENT_COLUMNS):
        intake.incident = _incident(cells, day)
    if cells.has(*PERPETRATOR_COLUMNS):
        intake.perpetrator = _perpetrator(cells)
    _risk(cells, intake)
    _status(cells, intake, day, today)


def _summary(cells: Cells, external_id: str | None) -> str | None:
    """The summary with the old register's id at its head, as long as the case's forms take
    it: the id's line counts too."""
    room = TEXT_LENGTH - (len(_with_old_id(external_id, None)) + 1 if external_id else 0)
    return _with_old_id(external_id, cells.text("summary", limit=room))


def _with_old_id(external_id: str | None, text: str | None) -> str | None:
    """The old register's id kept (sealed) at the head of the summary or narrative."""
    if not external_id:
        return text
    preface = translated(OLD_ID) % {"id": external_id}
    return f"{preface}\n{text}" if text else preface


def _incident(cells: Cells, day: date) -> IncidentData:
    occurred = cells.day("incident_date")
    if occurred and occurred[0] > day:
        cells.problem(
            _l(
                "column '%(column)s': %(value)s is after the date of the call.",
                column=cells.heading("incident_date"),
                value=cells.show("incident_date"),
            )
        )
    return IncidentData(
        occurred_on=occurred[0] if occurred else None,
        place_type=cells.code("place_type") or "unknown",
        acts=cells.codes("acts"),
        gbv_type=cells.code("gbv_type"),
        gbv_context=cells.code("gbv_context"),
        chi_category=cells.code("chi_category"),  # kept for a child's case (casework)
        description=cells.text("description"),
    )


def _perpetrator(cells: Cells) -> PerpetratorData:
    # Years ("35", refused over 120 as the survivor's age is) or an age band's words.
    told = cells.has("perpetrator_age") and not is_nothing(cells.texts["perpetrator_age"])
    if told and read_age(cells.raw("perpetrator_age")) is not None:
        years = cells.age("perpetrator_age")
        band = perpetrator_band(years) if years is not None else None
    else:
        band = told and cells.code("perpetrator_age")
    return PerpetratorData(
        relationship=cells.code("perpetrator_relationship") or "unknown",
        sex=cells.code("perpetrator_sex") or "unknown",
        age_band=band or "unknown",
        alcohol_or_drugs=cells.code("alcohol_or_drugs") or "unknown",
        weapon_access=cells.code("weapon_access") or "unknown",
        earlier_violence=cells.code("earlier_violence") or "unknown",
        name=cells.text("perpetrator_name"),
    )


def _risk(cells: Cells, intake: ImportedIntake) -> None:
    """The register's level stands as a raised level with its reason; checklist answers given
    are scored as always, and no level is lowered below their score."""
    level, answers = cells.code("risk"), cells.codes("risk_factors")
    if not (level or answers):
        return
    computed = risk.score(answers).level
    final = risk.final_level(computed, level)
    intake.risk_answers = answers
    if level and final != level:
        cells.note(
            _l(
                "column '%(column)s': the register says %(given)s, but its risk signs score "
                "%(computed)s, which is kept (a level is never lowered).",
                column=cells.heading("risk"),
                given=cells.show("risk"),
                computed=RISK_LEVELS[final],
            )
        )
    if final != computed:
        intake.risk_raised_to = final
        intake.risk_reason = translated(RISK_AS_RECORDED)


def _status(cells: Cells, intake: ImportedIntake, day: date, today: date) -> None:
    status = cells.code("status")
    closed = cells.day("closed_on")
    if closed and not day <= closed[0] <= today:
        cells.problem(
            _l(
                "column '%(column)s': %(value)s is before the date of the call or in the future.",
                column=cells.heading("closed_on"),
                value=cells.show("closed_on"),
            )
        )
    if closed and status not in (None, "closed"):
        cells.problem(
            _l(
                "column '%(column)s': a closing date is given, "
                "but the status says the case is not closed.",
                column=cells.heading("closed_on"),
            )
        )
    intake.status = status or ("closed" if closed else "open")
    intake.closed_on = closed[0] if closed else None
    if intake.status == "closed" and not closed:
        cells.note(_l("the case is closed but has no closing date: the date of the call is used."))

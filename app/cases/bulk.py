"""The batch writer: the records `save_intake` writes for a new call (and the case it opens),
written as plain rows, one multi-row statement per table for a whole batch, instead of model
objects through the ORM's unit of work. The intake form saves a new call through it (a batch of
one), and the register import (import_run.save_row's records) saves its rows in batches of 500.

Rows are dictionaries of column values (app/model_rows.py): defaults are the columns' own,
sealed values are sealed with the row's data key (`RowKey.seal`, bound to table, column, row id
and key exactly as a SealedField binds them) and the SealedBytes columns still refuse anything
unsealed. Per batch:
the case numbers are taken in one block (one UPDATE of the counter, which locks its row until the
batch commits; taken once the batch is built, so the lock is short), the audit entries are
chained in memory under one lock of the chain head (`audit.record_many`), and the blind-index
digests (computed by `app.crypto.blind`) are inserted together.

A call added to an existing case goes through the unit of work (`intake_orm.write_orm`), as does
the rest of the case page's casework. tests/cases/test_import_bulk.py writes the same intakes
and register rows both ways and compares every table, field by field, after opening the sealed
values: keep the two in step.
"""

from __future__ import annotations

import uuid
from collections import defaultdict

from app import audit
from app.auth.models import User
from app.bulk_insert import Rows, Statement, bind, writes_together
from app.calls.intake import Intake, Survivor
from app.calls.models import Call, EmergencyAction, IntakeDraft
from app.cases.ages import survivor_age
from app.cases.bulk_parts import CaseParts
from app.cases.models import (
    Case,
    CaseEvent,
    CaseNote,
    Consent,
    Incident,
    Perpetrator,
    RiskAssessment,
    Task,
)
from app.cases.numbers import COUNTER_TAKEN, case_numbers, reserve_case_numbers
from app.cases.register.rows import ImportedIntake
from app.classifications import age_band
from app.clock import local_day, utcnow
from app.crypto import blind
from app.crypto.blind import BlindIndex
from app.crypto.datakeys import RowKey, keyring
from app.extensions import db
from app.model_rows import columns_of, new_row

# Parents before children, so foreign keys hold at every insert (PostgreSQL checks each one).
ORDER = (
    Case,
    Call,
    EmergencyAction,
    Incident,
    Perpetrator,
    RiskAssessment,
    Consent,
    CaseNote,
    CaseEvent,
    Task,
    BlindIndex,
)

# Every table a batch writes.
TABLES = [model.__table__ for model in ORDER] + [audit.AuditEntry.__table__]
# The tables a batch's own statements read while they grow: the intake keys already stored
# (call), and the parents every foreign key of a case's parts and of an emergency action looks
# up (case_record, call). Their statistics are refreshed as an import grows them (import_run.py);
# the others are only written to, and the database's own autovacuum analyses them later.
READ_WHILE_WRITING = [Call.__table__, Case.__table__]


def can_write(intake: Intake) -> bool:
    """Whether the batch writer takes this intake: a new call, and a new case or none (a call
    added to an existing case is left to save_intake's unit of work)."""
    return intake.case_id is None and not intake.case_number


def write_batch(intakes: list[Intake], *, by: User) -> list[Written]:
    """Write the intakes in the caller's transaction and say what each wrote. The caller has
    checked that no intake key is stored yet (a key stored meanwhile makes the insert fail:
    the caller rolls back, and the importer then saves the rows one by one)."""
    return prepare_batch(intakes, by=by).write()


def prepare_batch(intakes: list[Intake], *, by: User, bound: bool = False) -> Batch:
    """The batch's rows built and sealed, nothing written yet (write() does that): the import
    builds one batch while another process writes the one before (app/turns.py). `bound`: the
    rows' bind processing done now too (bulk_insert.bind), leaving the write only to send
    them; a value a column's bind processing refuses then raises BindError here."""
    batch = Batch(by)
    batch.written = [batch.add(intake) for intake in intakes]
    batch.intake_keys = [i.intake_key for i in intakes if i.intake_key is not None]
    if bound:
        batch.bind()
    return batch


class Written:
    """What the batch writer wrote for one intake: the call's and the case's ids, the case
    number, when the call started, and (for an imported row) "created" or "closed"."""

    __slots__ = ("call_id", "case_id", "started_at", "outcome", "_case")

    def __init__(self, call: dict, case: dict | None, outcome: str):
        self.call_id, self.started_at, self.outcome = call["id"], call["started_at"], outcome
        self.case_id = case["id"] if case is not None else None
        self._case = case

    @property
    def case_number(self) -> str | None:
        return self._case["number"] if self._case is not None else None


def _number(
    opened: list[tuple[dict, int]], by: User, entries: int, counts: list[int]
) -> tuple[int, str] | None:
    """Number the new cases in row order from one block per year (start_case numbers a case by
    the year, in Vietnam, it is opened in). When the batch is written as one statement (an
    intake on PostgreSQL: `counts`, the rows per table, say so) and its cases are of one year,
    the audit entries' places are taken in the same statement (audit.take_places_after) and
    returned; a larger batch locks the audit head only once its rows are in (record_many)."""
    years = list(dict.fromkeys(year for _, year in opened))
    if (
        len(years) == 1
        and entries
        and writes_together(db.session.connection().dialect, counts)
        and not audit.head_held()
    ):
        cases = [case for case, _ in opened]
        params = {"organisation_id": by.organisation_id, "year": years[0], "count": len(cases)}
        row, taken = audit.take_places_after(COUNTER_TAKEN, params, entries)
        numbers = case_numbers(by.organisation, years[0], row.last, len(cases))
        for case, number in zip(cases, numbers, strict=True):
            case["number"] = number
        return taken
    for year in years:
        cases = [case for case, opened_in in opened if opened_in == year]
        for case, number in zip(
            cases, reserve_case_numbers(by.organisation, year, len(cases)), strict=True
        ):
            case["number"] = number
    return None


class Batch(CaseParts):
    """The rows of a batch, per model, and its audit entries, in the order save_intake would
    record them."""

    def __init__(self, by: User):
        self.by = by
        self.written: list[Written] = []
        self.intake_keys: list[uuid.UUID] = []
        self.rows: dict[type, list[dict]] = defaultdict(list)
        self.entries: list[dict] = []
        self.opened: list[tuple[dict, int]] = []  # new cases, and the year they are opened in
        self.index_id = keyring().active_index_id
        self.tasks: dict[uuid.UUID, list[dict]] = {}  # per case
        self.reasons: dict[str, str] = {}  # an imported status's event reason, per status
        self.bound: dict[type, Rows] = {}  # the rows bound ahead (bind), per model

    def write(self) -> list[Written]:
        """Number the cases, then write the rows, table by table, with their audit entries,
        and delete the saved forms' drafts (none, for a file), in the caller's transaction:
        on PostgreSQL, one statement for a batch of one. Numbered last, so that the counter's
        row is locked only while the batch is inserted."""
        counts = [len(rows) for rows in self.rows.values()] + [len(self.entries)]
        taken = _number(self.opened, self.by, len(self.entries), counts)
        if self.bound:
            if Case in self.bound:  # numbered only now
                self.bound[Case].fill("number", [case["number"] for case in self.rows[Case]])
            tables = [
                (model.__table__, self.bound[model]) for model in ORDER if model in self.bound
            ]
        else:
            tables = [
                (model.__table__, [columns_of(model, r) for r in self.rows[model]])
                for model in ORDER
                if self.rows.get(model)
            ]
        keys = self.intake_keys
        then = [_drafts_deleted(self.by, keys)] if keys else []
        audit.record_many(self.entries, along=tables, then=then, taken=taken)
        return self.written

    def bind(self) -> None:
        """Bind the rows now (bulk_insert.bind); the cases' numbers are filled in by write()."""
        dialect = db.session.get_bind().dialect
        self.bound = {
            model: bind(model.__table__, [columns_of(model, r) for r in self.rows[model]], dialect)
            for model in ORDER
            if self.rows.get(model)
        }

    def _add(self, model: type, key: RowKey | None = None, **values) -> dict:
        """A row of `model` with its sealed values sealed under `key`; the id is new unless
        given (ids the database numbers are left to it)."""
        row = new_row(model, values, key)
        self.rows[model].append(row)
        return row

    def _audit(self, action: str, **fields) -> None:
        self.entries.append({"action": action, "user": self.by, **fields})  # timed when chained

    def _index(self, owner_type: str, owner_id: uuid.UUID, value: str, data: Intake) -> None:
        """What blind.set_index(new_owner=True) adds for one phone number (normalised by the
        check already, for an imported row: ImportedIntake.phones)."""
        phones = data.phones if isinstance(data, ImportedIntake) else {}
        if value in phones:  # under the key named below
            normal = phones[value]
            digest = (
                blind.normal_digest("phone", normal, index_id=self.index_id) if normal else None
            )
        else:
            digest = blind.digest_for("phone", value, index_id=self.index_id)
        if digest is not None:
            self.rows[BlindIndex].append(
                {
                    "field": "phone",
                    "index_key_id": self.index_id,
                    "digest": digest,
                    "owner_type": owner_type,
                    "owner_id": owner_id,
                }
            )

    # intake_orm.write_orm, then import_run.save_row
    def add(self, data: Intake) -> Written:
        by = self.by
        opens_case = data.open_case or data.reason == "violence_report"
        case, key = self._start_case(data) if opens_case else (None, RowKey())
        case_id = case["id"] if case is not None else None
        call = self._add(
            Call,
            key,
            case_id=case_id,
            organisation_id=by.organisation_id,
            taken_by_id=by.id,
            started_at=data.started_at or utcnow(),
            channel=data.channel,
            caller_type=data.caller_type,
            reason=data.reason,
            ended_at=data.ended_at,
            danger=" ".join(data.danger),
            outcomes=" ".join(data.outcomes),
            flags=" ".join(data.flags),
            intake_key=data.intake_key,
            intake_group=data.intake_group,
            sent_key=data.sent_key,
            line_id=data.line_id,
            caller_phone=data.caller_phone,
            caller_name=data.caller_name,
            narrative=data.narrative,
        )
        if data.caller_phone:
            self._index("call", call["id"], data.caller_phone, data)
        for action, at in data.emergency:
            self._add(
                EmergencyAction,
                call_id=call["id"],
                case_id=case_id,
                action=action,
                taken_at=at,
                by_id=by.id,
            )
        self._audit("create", object_type="call", object_id=call["id"], case_id=case_id)
        if case is None:
            _hold(call, key)  # a call without a case holds its own data key
            return Written(call, None, "created")
        self._case_parts(case, key, call, data)
        outcome = "created"
        if isinstance(data, ImportedIntake):
            case["opened_at"] = call["started_at"]  # save_row: opened when the register says
            if data.status != "open":
                self._set_status(case, key, data)
            if data.status == "closed":
                outcome = "closed"
        _hold(case, key)
        return Written(call, case, outcome)

    def _start_case(self, data: Intake) -> tuple[dict, RowKey]:
        """services.start_case; the number is given from the batch's block (_number)."""
        now = utcnow()
        s = data.survivor or Survivor()
        birth, age = s.birth_date, s.age
        years = survivor_age(age, birth, local_day(data.started_at))  # as start_case
        band = age_band(years) if years is not None else s.age_band
        key = RowKey()
        case = self._add(
            Case,
            key,
            status="open",
            organisation_id=self.by.organisation_id,
            opened_by_id=self.by.id,
            opened_at=now,
            updated_at=now,
            # Written once: version 1. (Through the unit of work, a case is inserted and then
            # updated as its parts are flushed; the version counts those UPDATEs.)
            version=1,
            survivor_age_band=band,
            is_child=band == "under_16",
            services_wanted=" ".join(data.services_wanted or []),
            survivor_birth_date=birth.isoformat() if birth else None,
            survivor_age=str(age) if age is not None else None,
            survivor_name=s.name,
            survivor_sex=s.sex,
            disability=s.disability,
            ethnicity=s.ethnicity,
            survivor_phone=s.phone,
            survivor_address=s.address,
            province_code=s.province_code,
            commune_code=s.commune_code,
            safe_contact=s.safe_contact,
            summary=data.summary,
        )
        self.tasks[case["id"]] = []
        self.opened.append((case, local_day(now).year))  # the year in Vietnam, as start_case
        if s.phone:
            self._index("case", case["id"], s.phone, data)
        return case, key


def _drafts_deleted(by: User, intake_keys: list[uuid.UUID]) -> Statement:
    """The DELETE of the user's drafts of the forms saved."""
    drafts = IntakeDraft.__table__
    marks = ", ".join(["{}"] * len(intake_keys))
    return Statement(
        f"DELETE FROM intake_draft WHERE user_id = {{}} AND intake_key IN ({marks})",  # noqa: S608
        ((drafts.c.user_id, by.id), *((drafts.c.intake_key, key) for key in intake_keys)),
    )


def _hold(row: dict, key: RowKey) -> None:
    """Store the data key in the row that holds it, once something was sealed under it (as a
    model object gets its key on the first value sealed)."""
    if key.used:
        row.update(key.columns())

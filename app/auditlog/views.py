"""Browse, filter and export the audit log of one's own organisation."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, time, timedelta

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Select, false, or_, select

from app import audit
from app.audit import ACTIONS, AuditEntry
from app.auditlog import bp
from app.auditlog.people import changed_accounts
from app.auditlog.people import people as people_of
from app.auth.access import roles_required
from app.auth.labels import EVENT_LABELS, OBJECT_LABELS, ROLE_LABELS, detail_text
from app.auth.models import User
from app.cases.models import Case
from app.cases.search_form import case_number, own_code, parse_day
from app.classifications import ERASE_REASONS
from app.clock import LOCAL
from app.extensions import db
from app.form_fields import as_page, as_row_id

PAGE_SIZE = 100
EXPORT_LIMIT = 100_000


def _filters() -> dict:
    """The filters of the request, checked: user, case number, action, period (local days,
    typed dd/mm/yyyy; one that cannot be read is not applied, and said so)."""
    typed = {name: request.args.get(name, "").strip() for name in ("from", "to")}
    # yyyy-mm-dd too, as links made before the period was typed dd/mm/yyyy give it
    days = {name: parse_day(text, "%Y-%m-%d") if text else None for name, text in typed.items()}
    return {
        "user": request.args.get("user", type=as_row_id),
        # Any spelling of a case number, as the case search takes it ("hn 2026 12"); anything
        # else (a phone number or a name typed there) is dropped, not carried on in links.
        "case": _case_number(request.args.get("case", "")),
        "bad_case": bool(request.args.get("case", "").strip())
        and not _case_number(request.args.get("case", "")),
        "action": request.args.get("action", "") if request.args.get("action") in ACTIONS else "",
        "start": days["from"],
        "end": days["to"],
        "typed": typed,
        # The period as it goes on in links and redirects: only days read back, never the
        # text typed (a phone number typed in a date box stays on this page alone).
        "period": {name: f"{day:%d/%m/%Y}" for name, day in days.items() if day is not None},
        "bad_dates": any(text and days[name] is None for name, text in typed.items()),
        # A period ending before it starts matches nothing: said, as the case search says it.
        "reversed": bool(days["from"] and days["to"] and days["to"] < days["from"]),
    }


def _case_number(typed: str) -> str:
    """The case number as stored, from any spelling; "" for what cannot be one, a phone number
    above all (the page's script stops it before it is sent; without the script the page says
    so). Only the organisation's own code may be digits only, as in the case search."""
    return case_number(typed, own_code())


def _link_args(filters: dict) -> dict:
    """The filters as they go on in links and redirects: only what was read back."""
    args = {
        "user": filters["user"] or "",
        "case": filters["case"],
        "action": filters["action"],
        **filters["period"],
    }
    return {name: value for name, value in args.items() if value}


def _query(filters: dict) -> Select:
    """Entries of the user's organisation, newest first, narrowed by the filters; admins also
    see the installation's own entries, which belong to no organisation (a phone-line token
    refused, a sign-in to an account that does not exist)."""
    own = AuditEntry.organisation_id == current_user.organisation_id
    if current_user.role == "admin":
        own = or_(own, AuditEntry.organisation_id.is_(None))
    stmt = select(AuditEntry).where(own)
    if filters["user"]:
        stmt = stmt.where(AuditEntry.user_id == filters["user"])
    if filters["bad_case"]:
        stmt = stmt.where(false())
    elif filters["case"]:
        case_id = db.session.execute(
            select(Case.id).where(
                Case.number == filters["case"], Case.organisation_id == current_user.organisation_id
            )
        ).scalar_one_or_none()
        stmt = stmt.where(AuditEntry.case_id == case_id if case_id else false())
    if filters["action"]:
        stmt = stmt.where(AuditEntry.action == filters["action"])
    if filters["start"]:
        start = datetime.combine(filters["start"], time(), LOCAL).astimezone(UTC)
        stmt = stmt.where(AuditEntry.at >= start)
    if filters["end"]:
        end = datetime.combine(filters["end"] + timedelta(days=1), time(), LOCAL).astimezone(UTC)
        stmt = stmt.where(AuditEntry.at < end)
    return stmt.order_by(AuditEntry.id.desc())


def _case_numbers(entries) -> dict:
    ids = {e.case_id for e in entries if e.case_id}
    if not ids:
        return {}
    return dict(db.session.execute(select(Case.id, Case.number).where(Case.id.in_(ids))).all())


@bp.route("/")
@roles_required("supervisor", "admin")
def index():
    """The organisation's audit log with filters."""
    filters = _filters()
    # The page read within bounds (Flask-SQLAlchemy reads it unbounded: a 20-digit page
    # overflowed the query's offset, a server error).
    number = request.args.get("page", 1, type=as_page)
    page = db.paginate(_query(filters), page=number, per_page=PAGE_SIZE, error_out=False)
    return render_template(
        "audit/index.html",
        page=page,
        filters=filters,
        staff=_people_of_the_log(current_user.organisation_id),
        actions=ACTIONS,
        people=people_of(page.items, current_user),
        case_numbers=_case_numbers(page.items),
        period=filters["period"],
        typed=filters["typed"],
    )


def _people_of_the_log(organisation_id: int | None) -> list[User]:
    """The organisation's staff, and the accounts moved out of it since (their entries stay in
    its log: the move is written there too), for the log's User filter."""
    former = changed_accounts(organisation_id)
    stmt = select(User).where(or_(User.organisation_id == organisation_id, User.id.in_(former)))
    return list(db.session.execute(stmt.order_by(User.full_name)).scalars())


def _reason_text(entry: AuditEntry) -> str:
    """An entry's reason as the log page shows it: an erasure's code in the reader's words."""
    if entry.action == "erase" and entry.reason in ERASE_REASONS:
        return str(ERASE_REASONS[entry.reason])
    return entry.reason or ""


def as_text(value: str) -> str:
    """A cell a spreadsheet shows as text, never runs: a value starting like a formula (a name
    an admin typed as "=HYPERLINK(...)", say) is written with a leading apostrophe."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@bp.route("/export.csv")
@roles_required("supervisor", "admin")
def export():
    """The filtered log as CSV (no content about people is in the log); the export is logged."""
    filters = _filters()
    if filters["bad_dates"] or filters["bad_case"] or filters["reversed"]:  # said on the page
        return redirect(url_for("audit.index", **_link_args(filters)))
    entries = db.session.execute(_query(filters).limit(EXPORT_LIMIT + 1)).scalars().all()
    if len(entries) > EXPORT_LIMIT:  # never a file that silently leaves the oldest out
        flash(
            _(
                "The filter matches more than %(limit)s entries, too many for one file: choose "
                "a shorter period, or a user or an action.",
                limit=f"{EXPORT_LIMIT:,}".replace(",", "."),
            ),
            "error",
        )
        return redirect(url_for("audit.index", **_link_args(filters)))
    people, numbers = people_of(entries, current_user), _case_numbers(entries)
    out = io.StringIO()
    writer = csv.writer(out)
    # Headers and labels in the reader's language; the codes again at the end, for scripts.
    writer.writerow(
        [
            "#",
            _("Time"),
            _("User"),
            _("Role"),
            _("Action"),
            _("Object"),
            _("Object id"),
            _("Case"),
            _("Detail"),
            _("Reason"),
            _("IP address"),
            _("Request id"),
            "role",
            "action",
            "object_type",
            "detail",
            "reason",
        ]
    )
    for e in entries:
        writer.writerow(
            [
                e.id,
                format_datetime(e.at, "dd/MM/yyyy HH:mm:ss"),
                as_text(people.get(e.user_id, "")),
                str(ROLE_LABELS.get(e.role, e.role or "")),
                str(EVENT_LABELS.get(e.action, e.action)),
                str(OBJECT_LABELS.get(e.object_type, e.object_type or "")),
                as_text(e.object_id or ""),
                numbers.get(e.case_id, ""),
                as_text(detail_text(e.detail)),
                as_text(_reason_text(e)),
                as_text(e.ip or ""),
                as_text(e.request_id or ""),  # sent by anyone (X-Request-ID): text, never run
                e.role or "",
                e.action,
                e.object_type or "",
                as_text(e.detail or ""),
                as_text(e.reason or ""),
            ]
        )
    audit.record(
        "export", user=current_user, object_type="audit_log", detail=f"{len(entries)} entries"
    )
    db.session.commit()
    stamp = datetime.now(LOCAL).strftime("%Y%m%d-%H%M")
    return Response(
        "\ufeff" + out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'},
    )

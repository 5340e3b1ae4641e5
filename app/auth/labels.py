"""Labels for stored codes (roles, kinds of organisation, sign-in events), in both languages."""

import re

from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "operator": _l("Hotline operator"),
    "case_manager": _l("Case manager"),
    "supervisor": _l("Supervisor"),
    "admin": _l("Administrator"),
    "partner": _l("Partner organisation"),
}
KIND_LABELS = {
    "hotline": _l("Hotline"),
    "social_work_centre": _l("Social work centre"),
    "womens_union": _l("Women's Union"),
    "health": _l("Health facility"),
    "legal_aid": _l("Legal aid centre"),
    "shelter": _l("Shelter"),
    "police": _l("Police"),
    "commune": _l("Commune People's Committee"),
    "ngo": _l("Non-governmental organisation"),
    "other": _l("Other"),
}
# What an audit entry is about (AuditEntry.object_type), as the audit log shows it.
OBJECT_LABELS = {
    "account": _l("Account"),
    "audit_log": _l("Audit log"),
    "call": _l("Call"),
    "case": _l("Case"),
    "intake_draft": _l("Unsaved intake"),
    "organisation": _l("Organisation"),
    "phone_line": _l("Phone line"),
    "place": _l("Place list"),
    "register": _l("Old register"),
    "screen_pop": _l("Screen pop"),
    "task": _l("Task"),
}
EVENT_LABELS = {
    "login_success": _l("Signed in"),
    "login_failure": _l("Failed sign-in"),
    "login_throttled": _l("Sign-in refused while locked"),
    "lockout": _l("Locked after repeated failures"),
    "logout": _l("Signed out"),
    "session_expired": _l("Session timed out"),
    "mfa_enrolled": _l("One-time codes turned on"),
    "mfa_disabled": _l("One-time codes turned off"),
    "mfa_failure": _l("Wrong one-time code"),
    "mfa_reset": _l("One-time codes reset by an admin"),
    "recovery_code_used": _l("Recovery code used"),
    "recovery_codes_regenerated": _l("New recovery codes"),
    "password_changed": _l("Password changed"),
    "password_reset": _l("Password reset by an admin"),
    "sessions_revoked": _l("Other sessions signed out"),
    "user_created": _l("Account created"),
    "user_updated": _l("Account changed"),
    "user_disabled": _l("Account disabled"),
    "user_enabled": _l("Account enabled"),
    "organisation_created": _l("Organisation created"),
    "organisation_updated": _l("Organisation changed"),
    "view": _l("Viewed"),
    "create": _l("Record created"),
    "update": _l("Changed"),
    "export": _l("Exported"),
    "erase": _l("Erased"),
    "denied": _l("Access refused"),
    "break_glass": _l("Emergency access"),
    "keys_rotated": _l("Keys rotated"),
    "keys_retired": _l("Old keys retired"),
    "keys_reindexed": _l("Blind indexes rebuilt"),
    "assign": _l("Assigned"),
    "status": _l("Status changed"),
    "search": _l("Searched"),
    "import": _l("Imported"),
    "line_created": _l("Phone line token created"),
    "line_revoked": _l("Phone line token revoked"),
    "screen_pop": _l("Incoming call announced"),
}
CASE_STATUS_LABELS = {
    "open": _l("Open"),
    "in_support": _l("In support"),
    "pending_closure": _l("Pending closure"),
    "closed": _l("Closed"),
    "reopened": _l("Reopened"),
    "erased": _l("Erased"),
}

# The fixed words audit entries carry in their detail (kept in English in the log, a stable
# vocabulary), as the log's pages and exports show them.
DETAIL_LABELS = {
    "edit form": _l("edit form"),
    "edit conflict": _l("edit conflict"),
    "erase form": _l("erase form"),
    "status form": _l("status form"),
    "incident form": _l("incident form"),
    "person form": _l("form for a person who used violence"),
    "risk form": _l("risk assessment form"),
    "risk conflict": _l("a risk assessment saved meanwhile, shown before saving"),
    "consent conflict": _l("a consent recorded meanwhile, shown before saving"),
    "consent form": _l("consent form"),
    "status change": _l("status change"),
    "call added to a case": _l("call added to a case"),
    "with the case's safe contact": _l("with the case's safe contact"),
    "repeat-caller panel": _l("repeat-caller panel"),
    "number withheld": _l("number withheld"),
    "unknown link": _l("unknown link"),
    "claimed": _l("claimed"),
    "expired link": _l("expired link"),
    "claimed by another account": _l("claimed by another account"),
    "rotated": _l("rotated"),
    "unknown bearer token": _l("unknown bearer token"),
    "no bearer token": _l("no bearer token"),
    "stopped line's bearer token": _l("a revoked line's bearer token"),
    "role_or_organisation": _l("role or organisation changed"),
    "language": _l("language changed"),
    # An admin's change refused by a rule about the account (app/admin/rules.py).
    "own_role": _l("changing one's own role"),
    "own_organisation": _l("moving one's own account to another organisation"),
    "own_account": _l("disabling one's own account"),
    "own_password_or_codes": _l("resetting one's own password or one-time codes"),
    "held_work": _l("an account still holding cases or tasks"),
    "unsaved_intakes": _l("an account still holding unsaved intakes"),
    "last_supervisor": _l("the last active supervisor of an organisation with active cases"),
    "inactive_organisation": _l("enabling an account of an inactive organisation"),
    # ...and about an organisation.
    "organisation_with_active_accounts": _l("deactivating an organisation with active accounts"),
    "code_in_case_numbers": _l("changing a code its case numbers already carry"),
    "password_check": _l("password check"),
    "unknown_account": _l("unknown account"),
    "disabled": _l("account disabled"),
    "bad_password": _l("wrong password"),
    "import": _l("import"),
    "safe contact on a new call": _l("safe contact, on a new call"),
    "search by case number": _l("search by case number"),
    "closure self-approval": _l("closing a case one asked to close oneself (not allowed)"),
    "phone": _l("search by phone number"),
    "erased case named in an intake": _l("an erased case named in an intake"),
    "form another account saved": _l("an intake form another account had saved, sent again"),
    "another account's page": _l("an intake page opened under another account, sent"),
    "not theirs": _l("a task given to someone else"),
    # Why a session ended (a sign-out's detail): the person, inactivity, its greatest length.
    "user": _l("signed out by the person"),
    "idle": _l("no activity for too long"),
    "absolute": _l("the session reached its greatest length"),
}
_COUNTED = re.compile(r"^(\d+) entries$")
_LINE = re.compile(r"^line (\d+)$")
_ROLE_PAGE = re.compile(r"^role: (\S+)$")  # access.refuse_role: the page asked for
_OBJECT_PAGE = re.compile(r"^page: ([a-z_.]+)$")  # refused for the object: the page asked
_PHONE_MATCHED = re.compile(r"^phone matched=(\d+)$")  # search.audit_phone_search
_PANEL_CALLS = re.compile(r"^repeat-caller panel calls=(\d+)$")  # calls/repeat.py


def detail_text(detail: str | None) -> str:
    """An entry's detail in the reader's language where it is made of the fixed words above
    ("line 4; number withheld" reads "đường dây 4; số bị ẩn"); ids, codes and field names
    stay as stored."""
    if not detail:
        return ""
    parts = []
    for part in detail.split("; "):
        if part in DETAIL_LABELS:
            parts.append(str(DETAIL_LABELS[part]))
        elif counted := _COUNTED.match(part):
            parts.append(ngettext("%(num)d entry", "%(num)d entries", int(counted[1])))
        elif line := _LINE.match(part):
            parts.append(gettext("line %(id)s", id=line[1]))
        elif part in ROLE_LABELS:  # an account created with this role
            parts.append(str(ROLE_LABELS[part]))
        elif page := _ROLE_PAGE.match(part):
            parts.append(gettext("a page this role may not open: %(page)s", page=page[1]))
        elif page := _OBJECT_PAGE.match(part):
            parts.append(gettext("asked on the page %(page)s", page=page[1]))
        elif matched := _PHONE_MATCHED.match(part):
            found = int(matched[1])
            parts.append(
                ngettext(
                    "search by phone number: %(num)d case found",
                    "search by phone number: %(num)d cases found",
                    found,
                )
            )
        elif shown := _PANEL_CALLS.match(part):
            parts.append(
                ngettext(
                    "repeat-caller panel: %(num)d earlier call",
                    "repeat-caller panel: %(num)d earlier calls",
                    int(shown[1]),
                )
            )
        else:
            parts.append(" ".join(_word_text(word) for word in part.split(" ")))
    return "; ".join(parts)


_MOVE = re.compile(r"^([a-z_]+)>([a-z_]+)$")  # a status move: "in_support>pending_closure"
_COUNT = re.compile(r"^([a-z_]+)=(\d+)$")  # "tasks_ended=2", an import's "written=15"
WORD_LABELS = {
    "assign": _l("on assignment"),
    "import": _l("by an import"),
    "done": _l("done"),
}
COUNT_LABELS = {  # an import run's counts (import_run.Report.detail)
    "read": _l("rows read"),
    "written": _l("written"),
    "skipped": _l("skipped because of errors"),
    "duplicates": _l("already imported"),
    "warnings": _l("warnings"),
    "closed": _l("closed as in the register"),
}


def _word_text(word: str) -> str:
    """One word of a detail in the reader's language: a status move, a count; an id, a code
    or a file's digest as stored."""
    if (move := _MOVE.match(word)) and {move[1], move[2]} <= CASE_STATUS_LABELS.keys():
        return f"{CASE_STATUS_LABELS[move[1]]} → {CASE_STATUS_LABELS[move[2]]}"
    if counted := _COUNT.match(word):
        name, num = counted[1], int(counted[2])
        if name == "tasks_ended":
            return ngettext("%(num)d open task ended", "%(num)d open tasks ended", num)
        if name == "tasks_restored":
            return ngettext("%(num)d task brought back", "%(num)d tasks brought back", num)
        if name in COUNT_LABELS:
            return f"{COUNT_LABELS[name]}: {num}"
    if word in WORD_LABELS:
        return str(WORD_LABELS[word])
    return word

"""Role by route: every call and case route, for every kind of user, answers only what that user
may see, and a refused attempt changes nothing. A new route under /calls or /cases must be added
to EXPECTED, or this test fails."""

import uuid

import pytest
from sqlalchemy import func, select

from app.audit import AuditEntry
from app.calls.drafts import open_drafts, save_draft
from app.calls.intake import Intake, Survivor, save_intake
from app.cases import drafts as case_drafts
from app.cases.casework import IncidentData, PerpetratorData, build_incident, build_perpetrator
from app.cases.models import Case
from app.extensions import db
from tests.conftest import sign_in

NAME = "Hồ Thị Ma Trận"
WHO = (
    "owner",  # the operator who took the call and opened the case
    "other_operator",  # same hotline, no part in the case
    "outside_operator",
    "manager",  # the case manager it is assigned to
    "other_manager",
    "supervisor",
    "outside_supervisor",
    "admin",
    "partner",
)
SEE_CASE = {"owner": 200, "manager": 200, "supervisor": 200, "admin": 403, "partner": 403}
INTAKE = {"owner": 200, "other_operator": 200, "outside_operator": 200, "supervisor": 200}
INTAKE.update(outside_supervisor=200, manager=403, other_manager=403, admin=403, partner=403)
CASE_ROLES_ONLY = {w: 200 for w in WHO} | {"admin": 403, "partner": 403}
SIGNED_IN = {w: 200 for w in WHO}

# endpoint -> (method, expected status per person; 404 when absent from the map)
EXPECTED = {
    "cases.show": ("GET", SEE_CASE),
    "cases.edit": ("GET", SEE_CASE),
    "cases.add_incident": ("GET", SEE_CASE),
    "cases.add_perpetrator": ("GET", SEE_CASE),
    "cases.correct_incident": ("GET", SEE_CASE),
    "cases.correct_perpetrator": ("GET", SEE_CASE),
    "cases.reassess": ("GET", SEE_CASE),
    "cases.consent": ("GET", SEE_CASE),
    # Only case managers and supervisors may move an open case on: the owner sees no such move.
    "cases.change_status": ("GET", SEE_CASE | {"owner": 404}),
    "cases.add_note": ("POST", SEE_CASE),
    "cases.add_task": ("POST", SEE_CASE),
    "cases.task_done": ("POST", SEE_CASE),
    "cases.task_list": ("GET", CASE_ROLES_ONLY),  # each person's own tasks
    "cases.assign": (
        "POST",
        {w: 403 for w in WHO} | {"supervisor": 200, "outside_supervisor": 404},
    ),
    "cases.erase": ("GET", {w: 403 for w in WHO} | {"supervisor": 200, "outside_supervisor": 404}),
    "cases.search": ("GET", CASE_ROLES_ONLY),  # POST: the form sent, then asked by address
    "cases.keep_draft": ("POST", SEE_CASE),
    "cases.discard_draft": ("POST", SEE_CASE),
    # Whether a closing page's last copy is newer than a reloaded page shows: one's own only.
    "cases.newer_draft": ("GET", SEE_CASE),
    "cases.draft_list": ("GET", CASE_ROLES_ONLY),
    "cases.search_phone": ("POST", CASE_ROLES_ONLY),
    "calls.show": ("GET", SEE_CASE),
    # A call's correction: whoever sees the call (the operator who took it, the case's
    # manager, the supervisors); an operator who did not take it is refused (403).
    "calls.correct": ("GET", SEE_CASE),
    # The same page for a call with no case (silent, counselling): its taker and the hotline's
    # supervisors only; its number, name and story are on it.
    "calls.show caseless": ("GET", {"owner": 200, "supervisor": 200, "admin": 403, "partner": 403}),
    "calls.new": ("GET", INTAKE),
    "calls.mine": ("GET", INTAKE),
    "calls.draft_list": ("GET", INTAKE),
    # Another's unsaved intake, asked for by its address: refused, as opening it is.
    "calls.discard_draft": (
        "POST",
        {w: 404 if s == 200 else s for w, s in INTAKE.items()} | {"owner": 200},
    ),
    "calls.lookup": ("POST", INTAKE),
    "calls.save_draft": ("POST", INTAKE),
    # Whether a newer copy of a draft landed: its author only; another's key is a refusal.
    "calls.newer_draft": (
        "GET",
        {w: 404 if s == 200 else s for w, s in INTAKE.items()} | {"owner": 200},
    ),
    "calls.fresh_token": ("GET", SIGNED_IN),
}


@pytest.fixture
def world(make_user, make_org):
    """One case in a hotline, with everyone around it."""
    hotline, elsewhere = make_org(code="HN"), make_org(code="SG")
    people = {
        "owner": make_user("operator", organisation=hotline),
        "other_operator": make_user("operator", organisation=hotline),
        "outside_operator": make_user("operator", organisation=elsewhere),
        "manager": make_user("case_manager", organisation=hotline),
        "other_manager": make_user("case_manager", organisation=hotline),
        "supervisor": make_user("supervisor", organisation=hotline),
        "outside_supervisor": make_user("supervisor", organisation=elsewhere),
        "admin": make_user("admin", organisation=hotline),
        "partner": make_user("partner"),
    }
    saved = save_intake(
        data=Intake(
            reason="violence_report",
            intake_key=uuid.uuid4(),
            caller_phone="0911000222",
            narrative=NAME,
            survivor=Survivor(name=NAME, age=9, safe_contact=NAME),
        ),
        by=people["owner"],
    )
    case = saved.case
    case.assigned_to_id = people["manager"].id
    build_incident(case, IncidentData(acts=["a_beating"], description=NAME), by=people["owner"])
    build_perpetrator(case, PerpetratorData(name=NAME), by=people["owner"])
    db.session.commit()
    draft_key = uuid.uuid4()
    save_draft(user=people["owner"], intake_key=draft_key, fields={"survivor_name": NAME})
    case_drafts.keep(
        case=case, user=people["owner"], form="note", page=uuid.uuid4(), fields={"body": NAME}
    )
    caseless = save_intake(
        data=Intake(
            reason="counselling", intake_key=uuid.uuid4(), caller_phone="0911000333",
            narrative=NAME,
        ),
        by=people["owner"],
    ).call  # fmt: skip
    db.session.commit()
    people["_caseless"] = caseless
    return people, case, saved.call, draft_key


# The routes that take both a page and a form sent: each half is checked. Whom the page refuses,
# the form sent is refused the same, changing nothing; a route added with both must be listed.
POST_TOO = {
    "cases.edit", "cases.add_incident", "cases.add_perpetrator", "cases.reassess",
    "cases.correct_incident", "cases.correct_perpetrator",
    "cases.consent", "cases.change_status", "cases.erase", "calls.new", "calls.correct",
    "cases.search",
}  # fmt: skip
# What the form sent holds (enough to pass the token; wrong enough never to erase the case).
POST_HALF = {
    "to": "in_support", "reason": "lý do", "kind": "note", "body": "ghi chú",
    "confirm_number": "không phải số ca", "erase_reason": "recorded_in_error",
    "reason_code": "recorded_in_error", "acts": "a_beating", "perpetrator_relationship": "other",
}  # fmt: skip


def route_for(app, endpoint: str, case, call, draft_key, people=None) -> str:
    if endpoint == "calls.show caseless":
        return f"/calls/{people['_caseless'].id}"
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    values = {
        "case_id": case.id,
        "call_id": call.id,
        "task_id": case.tasks[0].id,
        "part_id": (case.incidents if "incident" in endpoint else case.perpetrators)[0].id,
        "intake_key": draft_key,
        "form": "note",
    }
    path = rule.build({k: v for k, v in values.items() if k in rule.arguments})[1]
    query = {"cases.change_status": "?to=in_support", "cases.newer_draft": f"?page={uuid.uuid4()}"}
    return path + query.get(endpoint, "")


def post_data(endpoint: str, people) -> dict:
    return {
        "cases.add_note": {"kind": "note", "body": "ghi chú"},
        "cases.add_task": {"kind": "other", "due_at": "30/11/2026 09:00"},
        "cases.assign": {"assignee": str(people["other_manager"].id)},
        "calls.lookup": {"phone": "0911000222"},
        "cases.search_phone": {"phone": "0911000222"},
    }.get(endpoint, {})


def _matrix_rules(app):
    """The call and case routes, by blueprint or by address (the screen pop's page is under
    /calls, in the telephony blueprint: its link is checked in tests/telephony/test_pop.py)."""
    return [
        r
        for r in app.url_map.iter_rules()
        if r.endpoint.split(".")[0] in ("calls", "cases")
        or r.rule.startswith(("/calls/", "/cases/"))
    ]


def test_every_call_and_case_route_is_in_the_matrix(app):
    endpoints = {r.endpoint for r in _matrix_rules(app)} - {"telephony.pop"}
    listed = {e.split()[0] for e in EXPECTED}
    assert endpoints == listed, endpoints ^ listed
    both = {r.endpoint for r in _matrix_rules(app) if {"GET", "POST"} <= r.methods}
    assert both - {"telephony.pop"} == POST_TOO, both ^ POST_TOO


def row_counts() -> dict:
    counts = {}
    for table in db.metadata.sorted_tables:
        if table.name not in ("audit_entry", "audit_head", "web_session"):
            counts[table.name] = db.session.execute(
                select(func.count()).select_from(table)
            ).scalar_one()
    return counts


@pytest.mark.parametrize("endpoint", sorted(EXPECTED))
def test_role_by_route(app, world, endpoint):
    """Each person in turn, in a fresh browser session, against one route."""
    people, case, call, draft_key = world
    method, expected = EXPECTED[endpoint]
    url = route_for(app, endpoint, case, call, draft_key, people)
    # The owner goes last: some allowed requests (discarding the draft) change what follows.
    for who in sorted(WHO, key=lambda w: w == "owner"):
        check(app, endpoint, who, people, case, url, method, expected.get(who, 404), draft_key)


@pytest.mark.parametrize("endpoint", sorted(POST_TOO))
def test_role_by_route_the_form_sent(app, world, endpoint):
    """The form-sending half of a page's route: refused to whom the page is refused, changing
    nothing, audited; the others reach the form (saved, or answered with what to correct)."""
    people, case, call, draft_key = world
    _method, expected = EXPECTED[endpoint]
    url = route_for(app, endpoint, case, call, draft_key).split("?")[0]
    for who in WHO:
        client = app.test_client()
        sign_in(client, people[who])
        db.session.expire_all()
        before, denied_before = row_counts(), denied_count(people[who])
        version = db.session.get(Case, case.id).version
        data = POST_HALF | {"version": str(version)}
        response = client.submit(url, data, page="/auth/account")
        status, got = expected.get(who, 404), response.status_code
        if status == 200:
            assert got in (200, 302, 303, 409, 422), (endpoint, who, got)
            continue
        assert got in (403, 404), (endpoint, who, got)
        assert NAME not in response.get_data(as_text=True)
        db.session.expire_all()
        assert row_counts() == before, f"{endpoint}: a refused form by {who} changed something"
        assert db.session.get(Case, case.id).version == version
        assert denied_count(people[who]) > denied_before, f"{endpoint}: {who} not audited"


def check(app, endpoint, who, people, case, url, method, status, draft_key) -> None:
    client = app.test_client()
    user = people[who]
    sign_in(client, user)
    db.session.expire_all()  # earlier people's allowed changes were made by the server
    before = row_counts()
    version = db.session.get(Case, case.id).version
    denied_before = denied_count(user)
    if method == "GET":
        response = client.get(url, headers={"Accept": "text/html"})
    elif endpoint == "cases.keep_draft":
        response = client.post(
            url,
            json={"page": str(uuid.uuid4()), "fields": {"body": "ghi chú"}},
            headers={"X-CSRFToken": client.csrf_token("/auth/account")},
        )
    elif endpoint == "calls.save_draft":
        response = client.post(
            url,
            json={"intake_key": str(uuid.uuid4()), "fields": {"a": "b"}},
            headers={"X-CSRFToken": client.csrf_token("/auth/account")},
        )
    else:
        response = client.submit(url, post_data(endpoint, people), page="/auth/account")
    got = response.status_code
    if status == 200:
        # A page is shown (a redirect could be the sign-in page); a form sent does its work.
        assert got == 200 if method == "GET" else got in (200, 302), (endpoint, who, got)
        if endpoint in ("cases.show", "cases.edit", "calls.show", "calls.show caseless"):
            assert NAME in response.get_data(as_text=True), (endpoint, who)
    else:
        assert got == status, (endpoint, who, got)
        assert NAME not in response.get_data(as_text=True)
        db.session.expire_all()
        assert row_counts() == before, f"{endpoint}: a refused request by {who} changed something"
        assert db.session.get(Case, case.id).version == version
    if got in (403, 404):
        assert denied_count(user) > denied_before, f"{endpoint}: refusal of {who} not audited"
    if endpoint == "calls.discard_draft":
        # Nobody but its author can discard a draft, whatever the answer says.
        kept = [d.intake_key for d in open_drafts(people["owner"])]
        assert (draft_key in kept) == (who != "owner"), who
    if endpoint == "cases.discard_draft":
        # Each person discards only their own draft: the owner's stays until the owner's turn.
        kept = case_drafts.restore(case=case, user=people["owner"], form="note")
        assert (kept is not None) == (who != "owner"), who


def denied_count(user) -> int:
    return db.session.execute(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "denied", AuditEntry.user_id == user.id)
    ).scalar_one()


# Asked by a page's script (autosaves, the number's lookup, a fresh token): a plain 401.
SCRIPT_ROUTES = {
    "cases.keep_draft", "calls.save_draft", "calls.fresh_token", "calls.lookup",
    "calls.newer_draft", "cases.newer_draft",
}  # fmt: skip


@pytest.mark.parametrize("endpoint", sorted(EXPECTED))
def test_signed_out_visitors_see_nothing(app, client, world, endpoint):
    """Sent with a valid token (the sign-in page's), so the sign-in check is what answers, not
    the token check: a page or form goes to the sign-in page, a page script's request gets 401."""
    people, case, call, draft_key = world
    method, _expected = EXPECTED[endpoint]
    url = route_for(app, endpoint, case, call, draft_key, people)
    token = client.csrf_token("/auth/login")
    if method == "GET":
        response = client.get(url)
    elif endpoint in ("cases.keep_draft", "calls.save_draft"):
        response = client.post(url, json={"fields": {}}, headers={"X-CSRFToken": token})
    else:
        response = client.post(url, data={"csrf_token": token})
    if endpoint in SCRIPT_ROUTES:
        assert response.status_code == 401, response.status_code
    else:
        assert response.status_code == 302, response.status_code
        assert response.location.startswith("/auth/login")
    assert NAME not in response.get_data(as_text=True)

"""The intake page: a call logged through the form, errors that keep what was typed, drafts,
double submits, and the repeat-caller panel."""

import json
import re
import uuid

from sqlalchemy import func, select

from app.audit import AuditEntry
from app.calls.drafts import load_draft, open_drafts
from app.calls.intake import Intake, Survivor, save_intake
from app.calls.models import Call, IntakeDraft
from app.cases.models import Case, CaseCounter, Incident, Task
from app.classifications import ACTS
from app.extensions import db
from tests.conftest import sign_in

KEY = re.compile(r'name="intake_key" type="hidden" value="([0-9a-f-]{36})"')


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def fresh_key(client) -> str:
    page = client.get("/calls/new").get_data(as_text=True)
    return KEY.search(page).group(1)


def form(client, **fields) -> dict:
    data = {
        "intake_key": fresh_key(client),
        "started_at": "22/11/2026 09:30",
        "channel": "phone",
        "caller_type": "survivor",
        "survivor_sex": "unknown",
        "survivor_age_band": "unknown",
        "place_type": "unknown",
        "perpetrator_sex": "unknown",
        "perpetrator_age_band": "unknown",
        "perpetrator_alcohol": "unknown",
        "perpetrator_weapon": "unknown",
        "perpetrator_earlier": "unknown",
        "consent_share": "unknown",
        "consent_given_by": "survivor",
        "child_assent": "unknown",
        "guardian_consent": "unknown",
    }
    data.update(fields)
    return data


def test_the_page_is_in_vietnamese_with_the_reason_shortcuts(client, login_as):
    login_as("operator")
    page = client.get("/calls/new").get_data(as_text=True)
    assert "Lý do cuộc gọi" in page or "Reason for the call" not in page
    assert page.count("<kbd>") == 7
    assert "autofocus" in page


def test_a_silent_call_is_logged_in_a_few_fields(client, login_as):
    login_as("operator")
    data = form(client, reason="silent", outcomes="no_action")
    response = client.submit("/calls/new", data, page="/calls/new")
    call = db.session.execute(select(Call)).scalar_one()
    assert response.status_code == 302 and response.location == f"/calls/new?saved={call.id}"
    assert (call.reason, call.case_id, call.outcomes) == ("silent", None, "no_action")
    assert call.started_at.hour == 2  # 09:30 in Hanoi is 02:30 UTC
    assert call.ended_at >= call.started_at  # not ended with "End now": ended as saved
    assert count(Case) == 0


def test_a_violence_report_opens_a_case_and_goes_to_it(client, login_as, make_org):
    login_as("operator", organisation=make_org(code="HN"))
    data = form(
        client,
        reason="violence_report",
        caller_phone="0912 345 678",
        survivor_name="Trần Thị Mai",
        survivor_age="29",
        acts=["a_beating", "h_disclosure"],
        perpetrator_relationship="intimate_partner",
        risk_answers=["threats_to_kill", "weapon_used"],
        emergency=["police_113"],
        emergency_time_police_113="22/11/2026 09:34",
        safe_contact="Chỉ gọi 9-11h",
    )
    response = client.submit("/calls/new", data, page="/calls/new")
    case = db.session.execute(select(Case)).scalar_one()
    assert response.location == f"/cases/{case.id}?saved={case.calls[0].id}"
    assert case.number.startswith("HN-") and case.risk_level == "severe"
    assert case.safe_contact == "Chỉ gọi 9-11h"
    action = case.calls[0].emergency_actions[0]
    assert (action.action, action.taken_at.hour, action.taken_at.minute) == ("police_113", 2, 34)


def test_errors_keep_every_value_typed(client, login_as):
    login_as("operator")
    data = form(
        client,
        reason="violence_report",
        started_at="hôm qua",
        survivor_name="Lê Thị Hoa",
        survivor_birth_date="31/02/2010",
        narrative="Một câu chuyện dài",
        acts=["b_insults"],
    )
    response = client.submit("/calls/new", data, page="/calls/new")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "dd/mm/yyyy hh:mm" in page or "dd/mm/yyyy" in page
    for typed in ("hôm qua", "Lê Thị Hoa", "31/02/2010", "Một câu chuyện dài"):
        assert typed in page
    assert re.search(r'value="b_insults"[^>]*checked|checked[^>]*value="b_insults"', page)
    assert data["intake_key"] in page
    assert count(Call) == 0


def test_a_time_beside_an_unticked_emergency_action_is_refused_and_kept(client, login_as):
    """The action was dropped unsaid, and its time vanished from the page sent back."""
    login_as("operator")
    data = form(
        client, reason="violence_report", survivor_name="Lê Thị Hoa",
        emergency_time_ambulance_115="14:30",
    )  # fmt: skip
    response = client.submit("/calls/new", data, page="/calls/new")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and count(Call) == 0
    assert "Đã gọi cấp cứu (115)" in page and "chưa được đánh dấu" in page
    assert re.search(r'name="emergency_time_ambulance_115"\s+value="14:30"', page)


def test_a_level_raised_without_its_reason_is_marked_at_the_field(client, login_as):
    """The refusal came from the save, as a message at the top of the page, the field not
    marked and the error list empty."""
    login_as("operator")
    data = form(
        client, reason="violence_report", risk_answers=["substance"], risk_raised_to="severe",
    )  # fmt: skip
    page = client.submit("/calls/new", data, page="/calls/new").get_data(as_text=True)
    assert 'id="form-errors"' in page and 'href="#risk_raised_to"' in page
    assert page.count("Hãy ghi lý do đánh giá nguy cơ cao hơn bảng kiểm.") >= 2
    assert count(Call) == 0
    # Raised to the checklist's own level (or lower) needs no reason.
    same = form(client, reason="violence_report", risk_answers=["substance"], risk_raised_to="low")
    assert client.submit("/calls/new", same, page="/calls/new").status_code == 302


def test_a_mistyped_age_and_date_are_explained_in_vietnamese(client, login_as):
    """WTForms' own messages come from our catalogs: it ships no Vietnamese of its own."""
    login_as("operator")
    data = form(
        client,
        reason="violence_report",
        survivor_age="ba mươi",
        survivor_birth_date="31/02/2010",
        survivor_sex="nonsense",
    )
    page = client.submit("/calls/new", data, page="/calls/new").get_data(as_text=True)
    assert "Hãy nhập một số nguyên (chỉ gồm chữ số)." in page
    assert "Nhập tuổi từ 0 đến 120." not in page  # one message: about what was typed
    assert "Ngày không hợp lệ. Hãy nhập theo dạng dd/mm/yyyy." in page
    assert "Lựa chọn không hợp lệ. Vui lòng chọn lại trong danh sách." in page
    assert "Not a valid" not in page and "ba mươi" in page
    assert count(Call) == 0


def test_a_start_time_that_cannot_be_read_says_how_to_write_it_not_that_it_is_missing(
    client, login_as
):
    login_as("operator")
    data = form(client, reason="silent", outcomes="no_action", started_at="31/02/2026 10:00")
    page = client.submit("/calls/new", data, page="/calls/new").get_data(as_text=True)
    assert "Viết thời gian theo dạng dd/mm/yyyy hh:mm" in page
    assert "Bắt đầu cuộc gọi: Ô này là bắt buộc." not in page
    assert "31/02/2026 10:00" in page and count(Call) == 0
    empty = form(client, reason="silent", outcomes="no_action", started_at="  ")
    page = client.submit("/calls/new", empty, page="/calls/new").get_data(as_text=True)
    assert "Ô này là bắt buộc." in page and count(Call) == 0


def test_a_double_submit_gives_one_record(client, login_as):
    login_as("operator")
    data = form(client, reason="violence_report", survivor_name="Hai Lần")
    first = client.submit("/calls/new", data, page="/calls/new")
    second = client.submit("/calls/new", data, page="/calls/new")
    assert second.location == first.location + "&again=1"
    assert (count(Call), count(Case)) == (1, 1)
    # The second submit's write was refused by the key's unique index and rolled back whole:
    # no case number spent, no audit entry, the draft gone with the first save.
    assert db.session.execute(select(CaseCounter.last)).scalar_one() == 1
    created = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "create")
    assert db.session.execute(created).scalar_one() == 2  # the call and the case, once
    follow = client.get(second.location).get_data(as_text=True)
    assert "đã được lưu" in follow or "already been saved" in follow


def test_a_form_sent_again_holding_more_keeps_what_it_adds(client, login_as):
    """Saved, its answer lost (the network cut), the page kept and completed, then sent again:
    one call still, but what was typed since is not dropped under "already saved": it is kept
    as an unsaved intake apart, named after the call, to add to the case. Sent as it was (a
    double click) keeps nothing."""

    operator = login_as("operator")
    data = form(client, reason="violence_report", survivor_name="Lê Thị Hoa")
    data["narrative"] = "Chồng đánh chị"
    first = client.submit("/calls/new", data, page="/calls/new")
    same = client.submit("/calls/new", data, page="/calls/new")
    assert same.location == first.location + "&again=1" and open_drafts(operator) == []
    more = dict(data, narrative="Chồng đánh chị. Anh ta dọa giết chị nếu chị báo công an")
    again = client.submit("/calls/new", more, page="/calls/new")
    assert again.location == first.location + "&again=1&kept=1"
    assert (count(Call), count(Case)) == (1, 1)
    # The same more sent twice (a double click on it) is one copy.
    assert client.submit("/calls/new", more, page="/calls/new").location == again.location
    (kept,) = open_drafts(operator)
    assert kept.kept_from == uuid.UUID(data["intake_key"])
    fields = load_draft(user=operator, intake_key=kept.intake_key)
    assert fields["narrative"] == more["narrative"] and "csrf_token" not in fields
    said = client.get(again.location).get_data(as_text=True)
    assert "Cuộc gọi này đã được lưu trước đó" in said
    assert "được giữ trong các phiếu tiếp nhận chưa lưu" in said
    # Opened, the copy says why it was kept, and is not saved as a second call.
    opened = client.get(f"/calls/new?draft={kept.intake_key}").get_data(as_text=True)
    assert "Anh ta dọa giết chị" in opened and "được gửi lại sau khi cuộc gọi" in opened
    resent = {**more, **{k: fields[k] for k in ("kept_from", "kept_group", "kept_resent")}}
    resent["intake_key"] = str(kept.intake_key)
    refused = client.submit("/calls/new", resent, page=f"/calls/new?draft={kept.intake_key}")
    assert refused.status_code == 409 and count(Call) == 1


def test_a_form_sent_again_holding_more_and_a_mistake_keeps_it_too(client, login_as):
    """The same, what was added holding a mistake (a call-back time mistyped): the call is
    found saved and what the page holds kept, not dropped under "already saved"."""
    operator = login_as("operator")
    data = form(client, reason="violence_report", survivor_name="Lê Thị Hoa")
    first = client.submit("/calls/new", data, page="/calls/new")
    more = dict(data, narrative="Anh ta dọa giết chị", follow_up_at="31/02/2026 10:00")
    again = client.submit("/calls/new", more, page="/calls/new")
    assert again.location == first.location + "&again=1&kept=1"
    (kept,) = open_drafts(operator)
    assert load_draft(user=operator, intake_key=kept.intake_key)["narrative"] == more["narrative"]


def test_a_page_another_account_saved_is_refused_and_cleared(
    app, client, login_as, make_org, make_user
):
    """A shared computer: an intake page one operator saved and left open is submitted again
    after a colleague signs in. Nothing is saved twice, and what the page held (the first
    operator's call) is neither shown to the colleague nor kept as the colleague's draft."""
    org = make_org(code="HN")
    login_as("operator", organisation=org, language="en")
    data = form(client, reason="violence_report", survivor_name="Trên Máy Chung")
    assert client.submit("/calls/new", data, page="/calls/new").status_code == 302
    number = db.session.execute(select(Case.number)).scalar_one()
    colleague_user = make_user("operator", organisation=org, language="en")
    colleague = app.test_client()
    sign_in(colleague, colleague_user)
    autosaved = colleague.post(  # the left-open page autosaved under the colleague's session
        "/calls/drafts",
        json={"intake_key": data["intake_key"], "fields": {"survivor_name": "Trên Máy Chung"}},
        headers={"X-CSRFToken": colleague.csrf_token("/calls/new")},
    )
    assert autosaved.status_code == 409  # a draft of a form saved already is not kept
    refused = colleague.submit("/calls/new", data, page="/calls/new")
    assert refused.status_code == 302 and refused.location == "/calls/new"
    page = colleague.get(refused.location).get_data(as_text=True)
    assert "Another account had already saved that form" in page
    assert "Trên Máy Chung" not in page and number not in page
    assert data["intake_key"] not in page  # a fresh form, with a key of its own
    assert (count(Call), count(Case)) == (1, 1)
    assert db.session.execute(select(CaseCounter.last)).scalar_one() == 1
    assert open_drafts(colleague_user) == []  # the autosaved copy went too
    call_id = db.session.execute(select(Call.id)).scalar_one()
    refusal = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "denied")
    ).scalar_one()  # the attempt is in the log, against the call the page held
    assert (refusal.user_id, refusal.object_type, refusal.object_id) == (
        colleague_user.id,
        "call",
        str(call_id),
    )
    assert (refusal.organisation_id, refusal.detail) == (org.id, "form another account saved")


def test_vietnamese_for_a_page_another_account_saved(app, client, login_as, make_org, make_user):
    org = make_org(code="HN")
    login_as("operator", organisation=org)
    data = form(client, reason="silent")
    client.submit("/calls/new", data, page="/calls/new")
    colleague = app.test_client()
    sign_in(colleague, make_user("operator", organisation=org, language="vi"))
    refused = colleague.submit("/calls/new", data, page="/calls/new")
    text = colleague.get(refused.location).get_data(as_text=True)
    assert "Một tài khoản khác đã lưu biểu mẫu đó" in text
    assert count(Call) == 1


def test_drafts_are_sealed_and_offered_back_after_signing_in(client, login_as, app):
    user = login_as("operator")
    key = fresh_key(client)
    token = client.csrf_token("/calls/new")
    fields = {
        "intake_key": key,
        "reason": "violence_report",
        "survivor_name": "Bản Nháp Kín",
        "acts": ["a_beating", "i_forced_sex"],
        "started_at": "22/11/2026 10:00",
    }
    response = client.post(
        "/calls/drafts",
        data=json.dumps({"intake_key": key, "fields": fields}),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    raw = db.session.execute(select(IntakeDraft.payload_sealed)).scalar_one()
    assert "Bản Nháp".encode() not in raw
    assert load_draft(user=user, intake_key=uuid.UUID(key))["acts"] == ["a_beating", "i_forced_sex"]
    client.post("/auth/logout", data={"csrf_token": token})
    signed_in = sign_in(client, user)
    assert signed_in.location.endswith("/calls/drafts")
    restored = client.get(f"/calls/new?draft={key}").get_data(as_text=True)
    assert "Bản Nháp Kín" in restored and key in restored
    assert re.search(r'checked[^>]*value="i_forced_sex"|value="i_forced_sex"[^>]*checked', restored)


def test_saving_the_intake_removes_its_draft(client, login_as):
    user = login_as("operator")
    data = form(client, reason="information")
    client.post(
        "/calls/drafts",
        data=json.dumps({"intake_key": data["intake_key"], "fields": {"reason": "information"}}),
        content_type="application/json",
        headers={"X-CSRFToken": client.csrf_token("/calls/new")},
    )
    assert len(open_drafts(user)) == 1
    client.submit("/calls/new", data, page="/calls/new")
    assert open_drafts(user) == []


def test_autosave_when_signed_out_answers_401_not_a_redirect(client):
    """Sent with a valid token (the sign-in page's), so the sign-in check answers: a plain 401
    the page's script reads, never a redirect it would follow to a page of HTML."""
    response = client.post(
        "/calls/drafts",
        json={"intake_key": str(uuid.uuid4()), "fields": {}},
        headers={"X-CSRFToken": client.csrf_token("/auth/login")},
    )
    assert response.status_code == 401 and response.json == {"error": "signed_out"}


def test_the_repeat_caller_panel_finds_a_differently_spelled_number(
    client, login_as, make_user, make_org
):
    org = make_org(code="HN")
    login_as("operator", organisation=org)
    colleague = make_user("operator", organisation=org)
    colleague_case = save_intake(
        data=Intake(
            reason="violence_report",
            intake_key=uuid.uuid4(),
            caller_phone="0912345678",
            flags=["abusive"],
            risk_answers=["strangulation"],
            survivor=Survivor(name="Ẩn Danh", safe_contact="Không để lại lời nhắn"),
        ),
        by=colleague,
    ).case
    response = client.submit("/calls/lookup", {"phone": "+84 91 234 5678"}, page="/calls/new")
    panel = response.get_data(as_text=True)
    assert 'data-panel-calls="1"' in panel
    assert colleague_case.number in panel and "Không để lại lời nhắn" in panel
    views = (
        db.session.execute(
            select(AuditEntry).where(AuditEntry.action == "view", AuditEntry.object_type == "case")
        )
        .scalars()
        .all()
    )
    assert [v.detail for v in views] == ["repeat-caller panel"]
    assert "0912345678" not in (views[0].detail or "")


def test_a_child_case_from_the_form_gets_its_tasks(client, login_as):
    login_as("operator")
    data = form(client, reason="violence_report", survivor_age="10", danger=["injured"])
    client.submit("/calls/new", data, page="/calls/new")
    case = db.session.execute(select(Case)).scalar_one()
    assert case.is_child
    assert {t.kind for t in db.session.execute(select(Task)).scalars()} == {
        "notify_commune",
        "child_12h",
        "safety_review",  # an injury told, no checklist filled: the risk assessed within a day
    }


def statements_of(app, request, *, sql: bool = False) -> tuple[object, list[str]]:
    """The response to request(), and the statements ("INSERT table", "UPDATE table", ...;
    with sql=True the whole statement) and commits ("COMMIT") the app sent for it, in order."""
    from sqlalchemy import event

    seen: list[str] = []

    def statement(_conn, _cursor, text, *_args):
        words = text.replace('"', "").split()
        if sql:
            seen.append(" ".join(words))
        elif words[0].upper() == "WITH":  # writes made together (bulk_insert.write_together)
            for verb, target in re.findall(r"AS \((INSERT INTO|UPDATE|DELETE FROM) (\w+)", text):
                seen.append(f"{verb.split()[0]} {target}")
        else:
            target = (
                words[1] if words[0].upper() == "UPDATE" else words[2] if len(words) > 2 else ""
            )
            seen.append(f"{words[0].upper()} {target}")

    def commit(_conn):
        seen.append("COMMIT")

    with app.app_context():  # the engine the requests use (the test has its own app)
        engine = db.engine
    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        response = request()
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)
    return response, seen


def assert_committed_whole_with_no_session_write(seen: list[str]) -> None:
    """The records go in one commit, and it is the request's only write: the "saved" message
    is told by the address the save goes to, not kept in the session row (a save never holds
    a session row: revoking a user's sessions locks those rows first, then others)."""
    writes = [i for i, s in enumerate(seen) if s.split()[0] in ("INSERT", "UPDATE", "DELETE")]
    commit = seen.index("COMMIT", writes[0])
    assert "INSERT call" in seen[:commit] and "UPDATE audit_head" in seen[:commit], seen
    assert not [s for s in seen[commit:] if s.split()[0] in ("INSERT", "UPDATE", "DELETE")], seen
    assert not [s for s in seen if s.endswith("web_session") and not s.startswith("SELECT")]


def test_a_save_is_committed_whole_and_its_message_shown_once(app, client, login_as, make_org):
    """The records in one commit, and the "saved" message on the case page the save goes to,
    only there (not on the next page, not for another user, not for a call of another case);
    a call
    added to the case locks the case row before the audit head, as every edit of a case
    does (so the two cannot deadlock on PostgreSQL)."""
    login_as("operator", organisation=make_org(code="HN"))
    data = form(client, reason="violence_report", survivor_name="Lê Thị Hoa", acts=["a_beating"])
    response, seen = statements_of(
        app, lambda: client.submit("/calls/new", data, page="/calls/new")
    )
    assert response.status_code == 302 and "/cases/" in response.location
    assert_committed_whole_with_no_session_write(seen)
    assert "Lê Thị Hoa" not in response.location and "saved=" in response.location
    page = client.get(response.location).get_data(as_text=True)
    number = re.search(r"HN-\d{4}-\d{6}", page).group()
    assert "Lê Thị Hoa" in page
    assert re.search(rf'<p class="flash flash-success"[^>]*>[^<]*{number}[^<]*</p>', page)
    case_page = response.location.split("?")[0]
    case_id = case_page.rsplit("/", 1)[1]
    assert "flash-success" not in client.get(case_page).get_data(as_text=True)
    more = form(client, reason="follow_up", case_id=case_id, case_number=number)
    response, seen = statements_of(
        app, lambda: client.submit("/calls/new", more, page="/calls/new"), sql=True
    )
    assert response.status_code == 302 and response.location.startswith(case_page + "?saved=")
    assert db.session.execute(select(func.count()).select_from(Call)).scalar_one() == 2
    if db.engine.dialect.name == "postgresql":
        locked = next(i for i, s in enumerate(seen) if "FOR NO KEY UPDATE OF case_record" in s)
        head = next(i for i, s in enumerate(seen) if s.startswith("UPDATE audit_head"))
        assert locked < head, seen


def test_the_saved_message_is_said_only_for_the_users_own_call(
    app, client, login_as, make_org, make_user
):
    """A call with no case goes back to a fresh intake saying when it was logged; an address
    naming another user's call, or a call of another case, says nothing."""
    org = make_org(code="HN")
    login_as("operator", organisation=org, language="en")
    silent = form(client, reason="silent", started_at="22/11/2026 09:05")
    response = client.submit("/calls/new", silent, page="/calls/new")
    assert response.location.startswith("/calls/new?saved=")
    page = client.get(response.location).get_data(as_text=True)
    assert "Call logged at 22/11/2026 09:05." in page
    lone_call = response.location.split("saved=")[1]
    report = form(client, reason="violence_report", survivor_name="Phạm Thị Mai")
    case_page = client.submit("/calls/new", report, page="/calls/new").location.split("?")[0]
    elsewhere = client.get(f"{case_page}?saved={lone_call}").get_data(as_text=True)
    assert "flash-success" not in elsewhere  # that call is not one of this case's
    colleague = app.test_client()
    sign_in(colleague, make_user("operator", organisation=org, language="en"))
    page = colleague.get(f"/calls/new?saved={lone_call}").get_data(as_text=True)
    assert "Save the call" in page and "flash-success" not in page
    assert "flash-success" not in client.get("/calls/new?saved=not-an-id").get_data(as_text=True)


def test_a_save_refused_part_way_leaves_nothing(app, client, login_as, make_org, monkeypatch):
    """A rule that refuses the save after the call and its audit entry were written (a call
    added to an existing case checks its parts after that): the whole save is rolled back at
    once, the refusal is shown with the form as typed, and no "saved" message appears."""
    from app.calls import intake_orm
    from app.cases.services import CaseError

    login_as("operator", organisation=make_org(code="HN"), language="en")
    first = form(client, reason="violence_report", survivor_name="Đỗ Thị Lan")
    case_page = client.submit("/calls/new", first, page="/calls/new").location.split("?")[0]
    case_id = case_page.rsplit("/", 1)[1]

    def refuse(*_args, **_kwargs):
        raise CaseError("Refused on purpose, part-way.")

    monkeypatch.setattr(intake_orm, "record_case_parts", refuse)
    more = form(client, reason="follow_up", case_id=case_id, caller_name="Người gọi thử")
    response = client.submit("/calls/new", more, page="/calls/new")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Refused on purpose" in page
    assert 'value="Người gọi thử"' in page  # kept as typed
    assert "Call saved to case" not in page
    assert count(Call) == 1
    later = client.get("/calls/new").get_data(as_text=True)
    assert "Call saved to case" not in later and "Refused on purpose" not in later


OWNER = re.compile(r'name="owner" type="hidden" value="(\d+)"')


def test_a_page_left_open_is_not_saved_under_the_next_account(client, login_as, make_user):
    """Operator A's session ends with an intake open; B signs in on the same browser. A's
    form is neither saved as B's call nor kept as B's draft: A finds it among A's drafts."""
    first = login_as("operator")
    page = client.get("/calls/new").get_data(as_text=True)
    assert OWNER.search(page).group(1) == str(first.id) and 'autocomplete="off"' in page
    data = form(client, reason="violence_report", survivor_name="Người Của A")
    data["owner"] = str(first.id)
    token = client.csrf_token("/calls/new")
    saved = client.post(
        "/calls/drafts",
        json={"intake_key": data["intake_key"], "fields": data},
        headers={"X-CSRFToken": token},
    )
    assert saved.status_code == 200
    client.post("/auth/logout", data={"csrf_token": token})
    second = make_user("operator", organisation=first.organisation)
    sign_in(client, second)
    assert client.get("/calls/token").get_json()["user"] == str(second.id)
    fresh = client.csrf_token("/calls/new")
    refused = client.post(
        "/calls/drafts",
        json={"intake_key": data["intake_key"], "fields": data},
        headers={"X-CSRFToken": fresh},
    )
    assert refused.status_code == 409 and refused.get_json()["error"] == "other_account"
    answer = client.submit("/calls/new", data, page="/calls/new")
    assert answer.location == "/calls/new"
    assert "opened under another account" not in client.get(answer.location).get_data(
        as_text=True
    )  # the notice is said in Vietnamese
    assert count(Call) == 0
    assert open_drafts(second) == [] and len(open_drafts(first)) == 1


def test_the_other_account_notice_is_in_vietnamese(client, login_as, make_user):
    first = login_as("operator")
    data = form(client, reason="information") | {"owner": str(first.id)}
    client.post("/auth/logout", data={"csrf_token": client.csrf_token("/calls/new")})
    sign_in(client, make_user("operator", organisation=first.organisation))
    answer = client.submit("/calls/new", data, page="/calls/new")
    shown = client.get(answer.location).get_data(as_text=True)
    assert "Trang đó được mở bằng một tài khoản khác" in shown
    db.session.rollback()
    refusal = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "denied")
    ).scalar_one()  # the attempt is in the log
    assert (refusal.object_type, refusal.detail) == ("call", "another account's page")
    assert refusal.user_id != first.id


def test_a_draft_sent_after_the_save_is_not_kept(client, login_as):
    """The autosave timer can fire while the form is being saved: a draft arriving after
    the save would be offered back as unsaved."""
    user = login_as("operator")
    data = form(client, reason="information")
    client.submit("/calls/new", data, page="/calls/new")
    late = client.post(
        "/calls/drafts",
        json={"intake_key": data["intake_key"], "fields": {"reason": "information"}},
        headers={"X-CSRFToken": client.csrf_token("/calls/new")},
    )
    assert late.status_code == 409 and late.get_json()["error"] == "already_saved"
    assert open_drafts(user) == []


def test_a_restored_draft_keeps_the_emergency_times_and_the_checklist_tick(client, login_as):
    """A police call made at 22:05 and saved from the draft an hour later stays at 22:05."""
    login_as("operator")
    key = fresh_key(client)
    fields = {
        "intake_key": key,
        "reason": "violence_report",
        "emergency": ["police_113"],
        "emergency_time_police_113": "22/11/2026 22:05",
        "risk_checked": "y",
    }
    client.post(
        "/calls/drafts",
        json={"intake_key": key, "fields": fields},
        headers={"X-CSRFToken": client.csrf_token("/calls/new")},
    )
    page = client.get(f"/calls/new?draft={key}").get_data(as_text=True)
    assert 'name="emergency_time_police_113"' in page
    assert re.search(r'name="emergency_time_police_113"\s+value="22/11/2026 22:05"', page)
    assert re.search(r'name="risk_checked" value="y" id="risk_checked"\s+checked', page)


def test_the_case_number_shown_wins_over_the_case_the_page_was_opened_for(client, login_as):
    """Opened from case A (?case=A), then case B chosen from the panel or typed: the call goes
    to B, the case the operator reads on the page, never silently to A."""
    operator = login_as("operator")
    first, second = (
        save_intake(data=Intake(reason="violence_report", survivor=Survivor(age=30)), by=operator)
        for _ in range(2)
    )
    a, b = first.case, second.case
    data = form(client, reason="follow_up", case_id=str(a.id), case_number=b.number.lower())
    response = client.submit("/calls/new", data, page="/calls/new")
    assert response.status_code == 302 and f"/cases/{b.id}?" in response.location
    db.session.expire_all()
    assert len(db.session.get(Case, b.id).calls) == 2 and len(db.session.get(Case, a.id).calls) == 1


def test_a_commune_of_another_province_is_refused_and_what_was_typed_kept(client, login_as):
    login_as("operator")
    data = form(
        client,
        reason="violence_report",
        survivor_name="Lê Thị Hoa",
        province_code="01",  # Hà Nội
        commune_code="26740",  # a ward of Hồ Chí Minh City
    )
    response = client.submit("/calls/new", data, page="/calls/new")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and count(Call) == 0
    assert "Lê Thị Hoa" in page
    assert "Hãy chọn xã, phường thuộc tỉnh/thành phố đã chọn." in page


def test_a_reason_that_opens_no_case_never_drops_the_case_details_typed(client, login_as):
    """A stray key turned a violence report into a silent call: saving says so, with all kept,
    instead of saving a bare call and dropping what was typed about the survivor."""
    login_as("operator")
    data = form(client, reason="silent", survivor_name="Lê Thị Còn", summary="Chồng đánh")
    response = client.submit("/calls/new", data, page="/calls/new")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and count(Call) == 0
    assert "Lê Thị Còn" in page and "Chồng đánh" in page
    assert "không mở ca" in page  # said in Vietnamese, on the reason
    silent = form(client, reason="silent", danger=["danger_now"])  # call-level answers: fine
    assert client.submit("/calls/new", silent, page="/calls/new").status_code == 302


def test_two_numbers_in_a_number_field_are_refused_and_kept_in_vietnamese(client, login_as):
    """A digest of two numbers would find neither again: one number a field."""
    login_as("operator")
    both = "0912 345 678 / 0987 654 321"
    data = form(client, reason="violence_report", caller_phone=both, survivor_phone=both)
    response = client.submit("/calls/new", data, page="/calls/new")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and count(Call) == 0
    assert page.count("Chỉ ghi một số ở đây") >= 2 and page.count(both) >= 2
    data = form(client, reason="silent", caller_phone="0912 345 678 (chị gái)")
    assert client.submit("/calls/new", data, page="/calls/new").status_code == 302
    assert count(Call) == 1


def test_the_panel_shows_each_cases_own_flags_set_from_another_number(
    client, login_as, make_user, make_org
):
    """A case flagged from one number ("the perpetrator may call") carries the flag beside its
    "Add this call to ..." button when another of its numbers calls: where the operator
    decides how to handle the call."""
    org = make_org(code="HN")
    login_as("operator", organisation=org)
    colleague = make_user("operator", organisation=org)
    first = save_intake(
        data=Intake(
            reason="violence_report",
            intake_key=uuid.uuid4(),
            caller_phone="0911000111",
            flags=["perpetrator_calling"],
            survivor=Survivor(name="X", safe_contact="Chỉ gọi 9-11h"),
        ),
        by=colleague,
    )
    save_intake(
        data=Intake(
            reason="follow_up",
            intake_key=uuid.uuid4(),
            caller_phone="0911000222",
            case_number=first.case_number,
        ),
        by=colleague,
    )
    panel = client.submit("/calls/lookup", {"phone": "0911000222"}, page="/calls/new").get_data(
        as_text=True
    )
    case_block = panel[panel.index('class="panel-case"') :]
    assert "Chỉ gọi 9-11h" in case_block and first.case_number in case_block
    assert "flag-perpetrator_calling" in case_block


def test_two_first_autosaves_at_once_keep_the_newer_text(client, login_as, monkeypatch):
    """The closing page's beacon and the timer's first autosave arrive together: the second
    to write finds the first's row made meanwhile and replaces its text, not a 500."""
    from app.calls import drafts as intake_drafts

    user = login_as("operator")
    key = fresh_key(client)

    def autosave(text):
        return client.post(
            "/calls/drafts",
            data=json.dumps({"intake_key": key, "fields": {"narrative": text}}),
            content_type="application/json",
            headers={"X-CSRFToken": client.csrf_token("/calls/new")},
        )

    assert autosave("lần một").status_code == 200
    real, missed = intake_drafts._find, []

    def not_yet_seen(*args):  # as if the first row were not committed when this one looked
        if not missed:
            missed.append(True)
            return None
        return real(*args)

    monkeypatch.setattr(intake_drafts, "_find", not_yet_seen)
    assert autosave("lần hai, mới hơn").status_code == 200
    monkeypatch.undo()
    db.session.rollback()
    assert len(open_drafts(user)) == 1
    fields = load_draft(user=user, intake_key=uuid.UUID(key))
    assert fields["narrative"] == "lần hai, mới hơn"


def test_a_call_or_incident_dated_later_than_now_is_refused_and_kept(client, login_as):
    """A slip of the year or of day and month (dd/mm) would head every list of calls for years."""
    login_as("operator")
    data = form(client, reason="violence_report", started_at="22/11/2031 09:30")
    page = client.submit("/calls/new", data, page="/calls/new").get_data(as_text=True)
    assert "Giờ bắt đầu cuộc gọi không thể ở tương lai." in page and "22/11/2031 09:30" in page
    data = form(
        client, reason="violence_report", ended_at="22/11/2031 09:40", incident_date="01/01/2031"
    )
    page = client.submit("/calls/new", data, page="/calls/new").get_data(as_text=True)
    assert "Giờ kết thúc cuộc gọi không thể ở tương lai." in page
    assert "Vụ việc không thể xảy ra sau cuộc gọi." in page
    assert count(Call) == 0


def test_a_case_flagged_high_risk_and_rated_high_shows_the_flag_once(
    client, login_as, make_user, make_org
):
    org = make_org(code="HN")
    login_as("operator", organisation=org)
    save_intake(
        data=Intake(
            reason="violence_report",
            intake_key=uuid.uuid4(),
            caller_phone="0911000333",
            flags=["high_risk"],
            risk_answers=["strangulation"],
            survivor=Survivor(name="X"),
        ),
        by=make_user("operator", organisation=org),
    )
    panel = client.submit("/calls/lookup", {"phone": "0911000333"}, page="/calls/new").get_data(
        as_text=True
    )
    case_block = panel[panel.index('class="panel-case"') :]
    assert case_block.count("flag-high_risk") == 1


def test_a_year_no_calendar_converts_is_refused_with_its_message_and_kept(client, login_as):
    """01/01/0001 00:00 in Vietnam is before the first instant Python's UTC holds: the start
    time and an emergency action's time were a server error, the call typed lost."""
    login_as("operator")
    data = form(client, reason="silent", outcomes="no_action", started_at="01/01/0001 00:00")
    answer = client.submit("/calls/new", data, page="/calls/new")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Hãy viết năm trong khoảng từ 1900 đến 2100." in page
    assert "01/01/0001 00:00" in page and count(Call) == 0
    data = form(
        client,
        reason="violence_report",
        survivor_name="Trần Thị Mai",
        emergency=["police_113"],
        emergency_time_police_113="01/01/0001 00:00",
    )
    page = client.submit("/calls/new", data, page="/calls/new").get_data(as_text=True)
    assert "Trần Thị Mai" in page and "01/01/0001 00:00" in page and count(Call) == 0
    assert "theo dạng hh:mm hoặc dd/mm/yyyy hh:mm." in page


def test_dates_of_birth_and_incidents_out_of_any_life_are_refused(client, login_as):
    """01/01/1901 made the survivor 125 years old (the age box stops at 120), 01/01/1025 (for
    1925) 1,001; an incident in the year 1 was kept as it was typed; a birth after the call."""
    login_as("operator")
    data = form(
        client,
        reason="violence_report",
        survivor_birth_date="01/01/1901",
        incident_date="01/01/0001",
    )
    page = client.submit("/calls/new", data, page="/calls/new").get_data(as_text=True)
    assert "Ngày sinh này cho thấy người bị bạo lực hơn 120 tuổi: hãy kiểm tra lại năm." in page
    assert "Hãy viết năm trong khoảng từ 1900 đến 2100." in page
    assert "01/01/1901" in page and "01/01/0001" in page and count(Call) == 0
    data = form(client, reason="violence_report", survivor_birth_date="01/01/1025")
    page = client.submit("/calls/new", data, page="/calls/new").get_data(as_text=True)
    assert "Hãy viết năm trong khoảng từ 1900 đến 2100." in page and count(Call) == 0
    # A call of 01/01/2025 written up now: a birth in June 2025 gave an age below nought at
    # the call, counted as a child.
    later = {"started_at": "01/01/2025 09:00", "survivor_birth_date": "01/06/2025"}
    data = form(client, reason="violence_report", **later)
    page = client.submit("/calls/new", data, page="/calls/new").get_data(as_text=True)
    assert "Ngày sinh sau ngày mở ca (01/01/2025): hãy kiểm tra lại năm." in page
    assert count(Call) == 0


def test_a_choice_sent_twice_counts_once(client, login_as):
    """A crafted post repeating a box's value made three identical consents and a checklist
    longer than its column (refused by PostgreSQL: a server error there)."""
    login_as("operator")
    data = form(
        client,
        reason="violence_report",
        consent_services=["health"] * 3,
        risk_answers=["strangulation"] * 30,
        acts=["a_beating"] * 20,
    )
    assert client.submit("/calls/new", data, page="/calls/new").status_code == 302
    case = db.session.execute(select(Case)).scalar_one()
    assert [c.service for c in case.consents] == ["health"]
    [assessment] = case.assessments
    assert assessment.answers.split() == ["strangulation"]
    assert case.incidents[0].acts.split() == ["a_beating"]


def test_an_incident_with_every_act_ticked_is_saved(client, login_as):
    """Every act of the law's list took 205 characters of a 200-character column: PostgreSQL
    refused the save (a server error, the call lost)."""
    login_as("operator")
    data = form(client, reason="violence_report", acts=list(ACTS))
    assert client.submit("/calls/new", data, page="/calls/new").status_code == 302
    saved = db.session.execute(select(Incident)).scalar_one()
    assert saved.acts.split() == list(ACTS)


def test_an_autosave_whose_draft_goes_the_moment_after_is_answered_not_a_server_error(
    client, login_as, monkeypatch
):
    """The intake saved (or discarded in another tab) between the autosave's commit and its
    answer: reading the written draft's revision was a server error. The page is told the
    call was saved, or (discarded, here) to write it again."""
    from app.calls import draft_views, drafts

    login_as("operator")
    real = drafts.save_draft

    def then_gone(**kwargs):
        draft = real(**kwargs)
        with db.engine.begin() as conn:  # another tab's discard, just committed
            assert conn.execute(IntakeDraft.__table__.delete()).rowcount == 1
        return draft

    monkeypatch.setattr(draft_views.drafts, "save_draft", then_gone)
    key = uuid.uuid4()
    token = client.csrf_token("/calls/new")
    answer = client.post(
        "/calls/drafts",
        json={"intake_key": str(key), "fields": {"narrative": "đang gõ"}},
        headers={"X-CSRFToken": token},
    )
    assert answer.status_code == 409 and answer.json == {"error": "gone"}

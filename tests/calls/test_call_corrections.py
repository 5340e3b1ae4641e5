"""Correcting a saved call: what may change (and what stays, with why), who may correct which
call, the repeat-caller index following a corrected number, two people correcting at once, a
form sent twice, and the record of it (audit log, the case's timeline, the call's page)."""

from __future__ import annotations

import re
import uuid
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.audit import AuditEntry
from app.calls.intake import Intake, Survivor, save_intake
from app.calls.models import Call
from app.cases import services
from app.clock import utcnow
from app.crypto import blind
from app.extensions import db
from tests.cases.test_case_drafts import browser_fields, count_drafts, keep, stored
from tests.conftest import duties_done, sign_in

NUMBER, RIGHT_NUMBER = "0912 345 678", "0988 765 432"


def opened(client, url) -> dict:
    """The correction form's fields as a browser would send them, untouched."""
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    html = page.get_data(as_text=True).replace(
        "data-keep-typed>", 'data-keep-typed data-draft-url="">'
    )
    return browser_fields(html)


def send(client, url, fields: dict):
    token = client.csrf_token(url)
    return client.post(url, data={**fields, "csrf_token": token})


def corrections_of(call) -> list[str]:
    stmt = select(AuditEntry.detail).where(
        AuditEntry.object_type == "call",
        AuditEntry.object_id == str(call.id),
        AuditEntry.action == "update",
    )
    return list(db.session.execute(stmt).scalars())


@pytest.fixture
def scene(make_org, make_user):
    org = make_org(code="HN")
    people = {
        "operator": make_user("operator", organisation=org),
        "colleague": make_user("operator", organisation=org),
        "manager": make_user("case_manager", organisation=org),
        "supervisor": make_user("supervisor", organisation=org),
    }
    start = utcnow()
    silent = save_intake(
        data=Intake(reason="silent", started_at=start, caller_phone=NUMBER), by=people["operator"]
    ).call
    report = save_intake(
        data=Intake(
            reason="violence_report",
            started_at=start,
            caller_phone=NUMBER,
            narrative="Chồng đánh chị",
            survivor=Survivor(name="Chị Sửa Gọi", age=30),
        ),
        by=people["operator"],
    )
    report.case.assigned_to_id = people["manager"].id
    db.session.commit()
    return people, silent, report.call, report.case


def test_an_operator_corrects_a_short_call_they_took(client, scene):
    people, silent, _, _ = scene
    sign_in(client, people["operator"])
    page = client.get(f"/calls/{silent.id}").get_data(as_text=True)
    url = f"/calls/{silent.id}/edit"
    assert f'href="{url}"' in page
    fields = opened(client, url)
    form = client.get(url).get_data(as_text=True)
    # Only the short reasons are offered: a silent call does not become a violence report here.
    select_ = re.search(r'<select[^>]*name="reason".*?</select>', form, flags=re.S).group(0)
    offered = re.findall(r'<option[^>]*value="([a-z_]+)"', select_)
    assert set(offered) == {"counselling", "information", "silent", "prank", "wrong_number"}
    assert "thời hạn theo luật" in form  # the page says why the times stay
    typed = fields | {
        "reason": "prank",
        "caller_phone": RIGHT_NUMBER,
        "caller_name": "Người Trêu",
        "narrative": "Gọi lại lần ba, nói tục",
        "flags": ["abusive"],
    }
    answer = send(client, url, typed)
    assert answer.status_code == 302 and answer.location.endswith(f"/calls/{silent.id}")
    db.session.expire_all()
    call = db.session.get(Call, silent.id)
    assert (call.reason, call.caller_phone, call.caller_name, call.flags) == (
        "prank",
        RIGHT_NUMBER,
        "Người Trêu",
        "abusive",
    )
    assert call.narrative == "Gọi lại lần ba, nói tục"
    # The repeat-caller index follows the number: found by another spelling of the new one,
    # no longer by the old.
    found_new = blind.candidates(field="phone", raw="+84988765432", owner_type="call")
    found_old = blind.candidates(field="phone", raw="84912345678", owner_type="call")
    assert call.id in found_new and call.id not in found_old
    # The log names the fields, never the values; the call's page says who corrected it.
    (detail,) = corrections_of(call)
    assert detail == "corrected reason caller_phone caller_name narrative flags"
    shown = client.get(answer.location).get_data(as_text=True)
    assert "Đã lưu phần sửa" in shown and 'id="call-corrected"' in shown
    assert people["operator"].full_name in shown.split('id="call-corrected"')[1][:300]


def test_a_reason_of_another_kind_is_refused_and_everything_typed_kept(client, scene):
    people, silent, _, _ = scene
    sign_in(client, people["operator"])
    url = f"/calls/{silent.id}/edit"
    typed = opened(client, url) | {"reason": "violence_report", "caller_name": "Giữ lại tên này"}
    answer = send(client, url, typed)
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert "Giữ lại tên này" in html and "field-error" in html
    db.session.expire_all()
    assert db.session.get(Call, silent.id).reason == "silent"
    assert corrections_of(silent) == []


def test_who_may_correct_which_call(app, client, scene, make_org, make_user):
    people, silent, report_call, case = scene
    url = f"/calls/{silent.id}/edit"
    # A colleague operator does not see another's short call at all: 404, audited.
    sign_in(client, people["colleague"])
    assert client.get(url).status_code == 404
    # Another organisation's supervisor: 404.
    other = app.test_client()
    sign_in(other, make_user("supervisor", organisation=make_org(code="DN")))
    assert other.get(url).status_code == 404
    # The case manager of the case corrects its calls; the supervisor any of the organisation's.
    manager = app.test_client()
    sign_in(manager, people["manager"])
    assert manager.get(f"/calls/{report_call.id}/edit").status_code == 200
    assert manager.get(url).status_code == 404  # a short call: not theirs to see
    boss = app.test_client()
    sign_in(boss, people["supervisor"])
    assert boss.get(url).status_code == 200
    # An operator who may see a call on a case they took a call for, but did not take this
    # one: the page says nothing of a correction, and the form is refused, audited.
    later = save_intake(
        data=Intake(reason="follow_up", started_at=utcnow(), case_id=case.id, caller_phone=NUMBER),
        by=people["colleague"],
    ).call
    assert client.get(f"/calls/{report_call.id}").status_code == 200
    assert f"/calls/{report_call.id}/edit" not in client.get(f"/calls/{report_call.id}").get_data(
        as_text=True
    )
    assert client.get(f"/calls/{report_call.id}/edit").status_code == 403
    denied = (
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "denied", AuditEntry.object_id == str(report_call.id))
    )
    assert db.session.execute(denied).scalar_one() == 1
    assert client.get(f"/calls/{later.id}/edit").status_code == 200  # their own


def test_the_service_refuses_who_may_not_correct(scene):
    """The page refuses an operator another's call (403); the service does too."""
    from app.calls import corrections
    from app.cases.services import CaseError

    people, silent, _, _ = scene
    data = corrections.data_of(silent)
    data.caller_name = "Không được sửa"
    seen = corrections.fingerprint(silent)
    with pytest.raises(CaseError) as refused:
        corrections.correct(call=silent, by=people["colleague"], data=data, seen=seen)
    assert not isinstance(refused.value, corrections.CallChanged)
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Call, silent.id).caller_name is None


def test_a_call_of_a_closed_case_is_read_only(client, scene):
    people, _, report_call, case = scene
    duties_done(case, people["manager"])
    for to, by in (
        ("in_support", "manager"),
        ("pending_closure", "manager"),
        ("closed", "supervisor"),
    ):
        services.change_status(case=case, to=to, by=people[by])
    sign_in(client, people["supervisor"])
    url = f"/calls/{report_call.id}/edit"
    assert f'href="{url}"' not in client.get(f"/calls/{report_call.id}").get_data(as_text=True)
    answer = client.get(url)
    assert answer.status_code == 302
    assert "không thể sửa" in client.get(answer.location).get_data(as_text=True)


def test_a_correction_on_a_case_shows_on_its_timeline(client, scene):
    people, _, report_call, case = scene
    sign_in(client, people["manager"])
    url = f"/calls/{report_call.id}/edit"
    fields = opened(client, url)
    assert fields["reason"] == "violence_report" and fields["narrative"] == "Chồng đánh chị"
    answer = send(client, url, fields | {"narrative": "Chồng đánh chị, có dao"})
    assert answer.status_code == 302
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Đã sửa cuộc gọi: Nội dung người gọi trình bày" in page
    assert "Chồng đánh chị, có dao" in page  # the call's narrative as corrected
    db.session.expire_all()
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.detail == "corrected narrative")
    ).scalar_one()
    assert entry.case_id == case.id


def test_two_numbers_in_the_number_box_are_refused(client, scene):
    """Spaces alone between two numbers: stored as one, neither would find the caller again."""
    people, silent, _, _ = scene
    sign_in(client, people["operator"])
    url = f"/calls/{silent.id}/edit"
    answer = send(client, url, opened(client, url) | {"caller_phone": "0912 345 678 0987 654 321"})
    assert answer.status_code == 200 and "0987 654 321" in answer.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Call, silent.id).caller_phone == NUMBER


def test_a_case_calls_caller_is_not_made_a_child_here(app, client, scene):
    """ "A child calling for themself" put a case of no known age on the child path: on a call
    with a case it is not corrected to or from it here (the case's age says it), everything
    typed kept; on a call without a case it may be."""
    people, silent, report_call, case = scene
    sign_in(client, people["manager"])
    url = f"/calls/{report_call.id}/edit"
    typed = opened(client, url) | {"caller_type": "child_self", "caller_name": "Bé gọi"}
    answer = send(client, url, typed)
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert "Bé gọi" in html and "Sửa thông tin" in html
    db.session.expire_all()
    assert db.session.get(Call, report_call.id).caller_type == "survivor"
    assert corrections_of(report_call) == []
    operator = app.test_client()
    sign_in(operator, people["operator"])
    url = f"/calls/{silent.id}/edit"
    assert (
        send(operator, url, opened(operator, url) | {"caller_type": "child_self"}).status_code
        == 302
    )
    db.session.expire_all()
    assert db.session.get(Call, silent.id).caller_type == "child_self"


def test_a_form_sent_twice_corrects_once(client, scene):
    people, silent, _, _ = scene
    sign_in(client, people["operator"])
    url = f"/calls/{silent.id}/edit"
    typed = opened(client, url) | {"caller_name": "Gửi hai lần"}
    token = client.csrf_token(url)
    first = client.post(url, data={**typed, "csrf_token": token})
    second = client.post(url, data={**typed, "csrf_token": token})
    assert first.status_code == second.status_code == 302
    told = client.get(second.location).get_data(as_text=True)
    assert "Biểu mẫu này đã được lưu trước đó; không có gì được lưu hai lần." in told
    assert corrections_of(silent) == ["corrected caller_name"]


@pytest.mark.parametrize("on_a_case", [True, False])
def test_a_form_sent_again_after_a_colleague_put_it_back_changes_nothing(
    app, client, scene, on_a_case
):
    """The manager's correction is saved, its answer lost; a supervisor puts the narrative back
    as it was; the manager's page sends the same form again (a retry). The marks alone would
    find no colleague's change (the value is the one the page showed): the sending's record
    says it was saved once, so the supervisor's correction stays. A call with no case too."""
    people, silent, report_call, _ = scene
    call, field, before = (
        (report_call, "narrative", "Chồng đánh chị") if on_a_case else (silent, "caller_name", "")
    )
    first = people["manager"] if on_a_case else people["operator"]
    url = f"/calls/{call.id}/edit"
    sign_in(client, first)
    mine = opened(client, url) | {field: "Bản sai"}
    token = client.csrf_token(url)
    assert client.post(url, data={**mine, "csrf_token": token}).status_code == 302
    boss = app.test_client()
    sign_in(boss, people["supervisor"])
    assert send(boss, url, opened(boss, url) | {field: before}).status_code == 302
    again = client.post(url, data={**mine, "csrf_token": token})
    assert again.status_code == 302
    db.session.expire_all()
    assert (getattr(db.session.get(Call, call.id), field) or "") == before
    told = client.get(again.location).get_data(as_text=True)
    assert "Biểu mẫu này đã được lưu trước đó; không có gì được lưu hai lần." in told
    assert corrections_of(call) == [f"corrected {field}"] * 2


def test_two_people_correcting_one_call(app, client, scene):
    people, _, report_call, _ = scene
    url = f"/calls/{report_call.id}/edit"
    sign_in(client, people["manager"])
    mine = opened(client, url)
    boss = app.test_client()
    sign_in(boss, people["supervisor"])
    theirs = opened(boss, url)
    # The supervisor completes the narrative first.
    assert send(boss, url, theirs | {"narrative": "Lời kể của trưởng nhóm"}).status_code == 302
    # The manager changed another field only: saved, the supervisor's narrative kept.
    assert send(client, url, mine | {"caller_name": "Chị Hàng Xóm"}).status_code == 302
    db.session.expire_all()
    call = db.session.get(Call, report_call.id)
    assert (call.narrative, call.caller_name) == ("Lời kể của trưởng nhóm", "Chị Hàng Xóm")
    # The same narrative changed by both, differently: nothing saved, theirs shown above,
    # the field marked, the manager's text kept in the box.
    answer = send(client, url, mine | {"narrative": "Lời kể của cán bộ"})
    assert answer.status_code == 409
    html = answer.get_data(as_text=True)
    notice = html.split('id="call-changed"')[1].split("</div>")[0]
    assert "Lời kể của trưởng nhóm" in notice and people["supervisor"].full_name in notice
    assert re.search(r"<textarea[^>]*>\s*Lời kể của cán bộ", html)
    assert "Một đồng nghiệp cũng đã sửa" in html
    db.session.expire_all()
    assert db.session.get(Call, report_call.id).narrative == "Lời kể của trưởng nhóm"
    # Sent again from that page: saved.
    again = browser_fields(html.replace("data-keep-typed>", 'data-keep-typed data-draft-url="">'))
    assert send(client, url, again).status_code == 302
    db.session.expire_all()
    assert db.session.get(Call, report_call.id).narrative == "Lời kể của cán bộ"


def close(case, people):
    duties_done(case, people["manager"])
    for to, by in (("in_support", "manager"), ("pending_closure", "manager")):
        services.change_status(case=case, to=to, by=people[by])
    services.change_status(case=case, to="closed", by=people["supervisor"])


def test_a_case_closed_while_the_form_was_open_keeps_everything_typed(client, scene):
    people, _, report_call, case = scene
    sign_in(client, people["manager"])
    url = f"/calls/{report_call.id}/edit"
    typed = opened(client, url) | {"narrative": "Một đoạn dài đã gõ năm phút"}
    token = client.csrf_token(url)
    close(case, people)
    answer = client.post(url, data={**typed, "csrf_token": token})
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert "Một đoạn dài đã gõ năm phút" in html and "ca của nó đã đóng" in html
    db.session.expire_all()
    assert db.session.get(Call, report_call.id).narrative == "Chồng đánh chị"


def test_a_closure_committed_as_the_correction_is_sent_wins(app, client, scene, monkeypatch):
    """The case closes after the page checked it, before the correction is written: the
    correction reads the case again under its lock, and is refused, everything typed kept."""
    from app.auth.models import User
    from app.calls import correction_views
    from app.cases.models import Case

    people, _, report_call, case = scene
    duties_done(case, people["manager"])
    for to in ("in_support", "pending_closure"):
        services.change_status(case=case, to=to, by=people["manager"])
    sign_in(client, people["supervisor"])
    url = f"/calls/{report_call.id}/edit"
    typed = opened(client, url) | {"narrative": "Sau khi đóng ca"}
    real = correction_views._write

    def write(call, data, seen, sent, *rest):
        with app.app_context():  # another request closes the case now
            services.change_status(
                case=db.session.get(Case, case.id),
                to="closed",
                by=db.session.get(User, people["supervisor"].id),
            )
            db.session.remove()
        return real(call, data, seen, sent, *rest)

    monkeypatch.setattr(correction_views, "_write", write)
    answer = send(client, url, typed)
    assert answer.status_code == 200 and "Sau khi đóng ca" in answer.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "closed"
    assert db.session.get(Call, report_call.id).narrative == "Chồng đánh chị"


@pytest.mark.parametrize("on_a_case", [False, True])
def test_two_corrections_at_the_same_instant_never_overwrite(app, scene, monkeypatch, on_a_case):
    """A holds the call (and its case) while it writes; B, sent the same instant from a page
    drawn before, waits, then reads A's correction: the field both changed is B's to see (409),
    never overwritten in silence. On SQLite one writer at a time; on PostgreSQL the rows' locks."""
    import threading

    from app.auth.models import User
    from app.calls import corrections

    people, silent, report_call, _ = scene
    target = report_call if on_a_case else silent
    a_by, b_by = (
        (people["manager"], people["supervisor"])
        if on_a_case
        else (
            people["operator"],
            people["supervisor"],
        )
    )
    seen = corrections.fingerprint(target)
    held, outcome = threading.Event(), {}
    real = corrections.lock

    def lock(call):
        got = real(call)
        if threading.current_thread() is threading.main_thread() and not held.is_set():
            held.set()
            import time

            time.sleep(0.6)  # B is sent now, and waits
        return got

    def other():
        held.wait(10)
        with app.app_context():
            call = db.session.get(Call, target.id)
            data = corrections.data_of(call)
            data.caller_name = "Tên của B"
            try:
                corrections.correct(
                    call=call, by=db.session.get(User, b_by.id), data=data, seen=seen
                )
                outcome["b"] = "saved"
            except corrections.CallChanged as changed:
                outcome["b"] = changed.both
            finally:
                db.session.remove()

    monkeypatch.setattr(corrections, "lock", lock)
    b = threading.Thread(target=other)
    b.start()
    data = corrections.data_of(target)
    data.caller_name = "Tên của A"
    assert corrections.correct(call=target, by=a_by, data=data, seen=seen) == ["caller_name"]
    b.join(30)
    assert outcome == {"b": ["caller_name"]}
    db.session.expire_all()
    assert db.session.get(Call, target.id).caller_name == "Tên của A"


# What is typed into a call's correction is kept as a draft, as on the case's own forms.

TYPED = "Chị gọi lại kể thêm: anh ta giữ giấy tờ của chị"


def test_a_call_correction_typed_is_kept_sealed_and_brought_back_whole(client, scene):
    people, _, report, case = scene
    sign_in(client, people["operator"])
    url = f"/calls/{report.id}/edit"
    fields = opened(client, url)
    name = f"call-{report.id}"
    page = uuid.UUID(fields["form_key"])
    # Opened as stored, nothing typed: nothing kept.
    assert keep(client, case, name, fields, page, on=url).status_code == 200
    assert stored(case, people["operator"], name) == []
    typed = fields | {"narrative": TYPED, "caller_name": "Chị Lan"}
    answer = keep(client, case, name, typed, page, on=url)
    assert answer.status_code == 200 and answer.json["saved_at"]
    (draft,) = stored(case, people["operator"], name)
    assert TYPED.encode() not in bytes(draft.payload_sealed)

    # The session ends; signed in again, the list of unsent text names the call by its time.
    client.post("/auth/logout", data={"csrf_token": client.csrf_token(url)})
    sign_in(client, people["operator"])
    listed = client.get("/cases/drafts").get_data(as_text=True)
    local = report.started_at.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    assert f"Sửa cuộc gọi lúc {local:%d/%m/%Y %H:%M}" in listed
    back = re.search(r'href="([^"]*/calls/[^"]*/edit[^"]*)"', listed)[1].replace("&amp;", "&")
    html = client.get(back).get_data(as_text=True)
    assert 'id="draft-restored-call-' in html
    again = browser_fields(html)
    assert again["narrative"] == TYPED and again["caller_name"] == "Chị Lan"
    assert again["form_key"] == str(page)  # the same form: sent from two tabs, saved once

    # Sent: the call corrected, the draft gone with it, a late autosave of it refused.
    assert send(client, back, again).status_code == 302
    assert stored(case, people["operator"], name) == []
    db.session.refresh(report)
    assert report.narrative == TYPED
    assert keep(client, case, name, again, page, on=url).status_code == 409


def test_a_copy_brought_back_on_a_reload_sent_takes_its_source_draft_with_it(client, scene):
    people, _, report, case = scene
    sign_in(client, people["operator"])
    url = f"/calls/{report.id}/edit"
    fields = opened(client, url)
    name = f"call-{report.id}"
    typed = fields | {"narrative": TYPED}
    assert keep(client, case, name, typed, uuid.UUID(fields["form_key"]), on=url).status_code == 200
    # Reloaded within the minute: a copy under a key of its own, naming the page it came from.
    copy = browser_fields(client.get(url).get_data(as_text=True))
    assert copy["narrative"] == TYPED and copy["form_key"] != fields["form_key"]
    assert copy["copy_of"].startswith(fields["form_key"])
    assert send(client, url, copy).status_code == 302
    assert stored(case, people["operator"], name) == []  # the first page's draft went too
    # The first page (still open in another tab) sends the same text: nothing written twice.
    assert send(client, url, typed).status_code == 302
    assert corrections_of(report) == ["corrected narrative"]


def test_a_call_with_no_case_keeps_no_draft_and_none_is_kept_under_another_case(client, scene):
    people, silent, _, case = scene
    sign_in(client, people["operator"])
    html = client.get(f"/calls/{silent.id}/edit").get_data(as_text=True)
    assert "data-draft-url" not in html and "draft-status" not in html
    # A draft naming the short call under a case it is not on: refused, written to the log.
    answer = keep(client, case, f"call-{silent.id}", {"narrative": TYPED}, on="/auth/account")
    assert answer.status_code == 413
    assert count_drafts() == 0
    denied = select(AuditEntry.detail).where(
        AuditEntry.action == "denied", AuditEntry.case_id == case.id
    )
    assert f"call:{silent.id}" in db.session.execute(denied).scalars().all()


def test_a_call_correction_draft_goes_when_its_case_closes_and_is_not_kept_after(client, scene):
    people, _, report, case = scene
    sign_in(client, people["operator"])
    url = f"/calls/{report.id}/edit"
    fields = opened(client, url)
    name = f"call-{report.id}"
    typed = fields | {"narrative": TYPED}
    assert keep(client, case, name, typed, uuid.UUID(fields["form_key"]), on=url).status_code == 200
    duties_done(case, people["manager"])
    for to, by in (
        ("in_support", "manager"),
        ("pending_closure", "manager"),
        ("closed", "supervisor"),
    ):
        services.change_status(case=case, to=to, by=people[by])
    # Not offered to continue (the call is read-only now), and not kept any more.
    listed = client.get("/cases/drafts").get_data(as_text=True)
    assert f"/calls/{report.id}/edit" not in listed
    answer = keep(client, case, name, typed, uuid.UUID(fields["form_key"]), on="/auth/account")
    assert answer.status_code == 409 and answer.json["error"] == "closed"


def test_a_colleague_on_the_case_keeps_no_draft_of_a_call_they_may_not_correct(client, scene):
    """An operator who took a later call on the case sees it, but may not correct a
    colleague's call on it: no draft of that correction is kept for them, and the attempt is
    written to the log as refused."""
    people, _, report, case = scene
    save_intake(
        data=Intake(reason="follow_up", case_id=case.id, caller_phone=NUMBER),
        by=people["colleague"],
    )
    sign_in(client, people["colleague"])
    assert client.get(f"/cases/{case.id}").status_code == 200
    assert client.get(f"/calls/{report.id}/edit").status_code == 403
    answer = keep(client, case, f"call-{report.id}", {"narrative": TYPED}, on="/auth/account")
    assert answer.status_code == 413
    assert count_drafts() == 0
    denied = select(AuditEntry.detail).where(
        AuditEntry.action == "denied", AuditEntry.user_id == people["colleague"].id
    )
    assert f"call:{report.id}" in db.session.execute(denied).scalars().all()

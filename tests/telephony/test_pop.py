"""GET /calls/pop/<token>: the operator who answers opens the call once, into a sealed draft."""

import threading
import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import func, select, update

from app.audit import AuditEntry
from app.auth.models import User
from app.calls.drafts import load_draft
from app.calls.models import Call, IntakeDraft
from app.clock import utcnow
from app.crypto.datakeys import KeyDestroyedError
from app.extensions import db
from app.telephony import pops
from app.telephony.models import ScreenPop
from tests.conftest import sign_in
from tests.telephony.conftest import NUMBER


@pytest.fixture
def pop_link(make_line, announce):
    """Announce a call on a new line; returns (line, the link's path)."""

    def factory(body: dict | None = None, line_and_token=None):
        line, token = line_and_token or make_line()
        response = announce(token, body)
        assert response.status_code == 201
        return line, urlsplit(response.get_json()["url"]).path

    return factory


def _pop() -> ScreenPop:
    db.session.expire_all()
    return db.session.execute(select(ScreenPop)).scalar_one()


def _draft_key(response) -> uuid.UUID:
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    target = urlsplit(response.location)
    assert target.path == "/calls/new"
    return uuid.UUID(parse_qs(target.query)["draft"][0])


def _vi(msgid: str) -> str:
    """A message as a Vietnamese user sees it (the catalog's translation)."""
    with current_app.test_request_context(), force_locale("vi"):
        return gettext(msgid)


def _actions(action: str) -> list[AuditEntry]:
    stmt = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
    return list(db.session.execute(stmt).scalars())


@pytest.mark.parametrize("role", ["operator", "supervisor"])
def test_the_operator_gets_a_draft_holding_the_number(pop_link, login_as, client, role):
    line, path = pop_link()
    user = login_as(role, organisation=line.organisation)
    key = _draft_key(client.get(path))
    pop = _pop()
    started = pop.started_at.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%d/%m/%Y %H:%M")
    assert load_draft(user=user, intake_key=key) == {
        "caller_phone": NUMBER,
        "started_at": started,
        "channel": "phone",
        "line_id": str(line.id),
    }
    assert pop.claimed_by_id == user.id and pop.claimed_at is not None
    # The number now lives only in the operator's draft: the pop's key is gone.
    assert pop.key_destroyed_at is not None and pop.key_wrapped is None
    assert pop.caller_phone_sealed is None
    with pytest.raises(KeyDestroyedError):
        pop.aead()
    claimed = _actions("screen_pop")[-1]
    assert (claimed.user_id, claimed.detail, claimed.object_id) == (user.id, "claimed", str(pop.id))
    assert claimed.organisation_id == line.organisation_id


def test_the_intake_page_opens_filled_in(pop_link, login_as, client):
    line, path = pop_link()
    login_as("operator", organisation=line.organisation)
    page = client.get(client.get(path).location)
    assert page.status_code == 200
    assert NUMBER in page.get_data(as_text=True)


def test_a_withheld_number_gives_a_draft_without_one(pop_link, login_as, client):
    line, path = pop_link({"caller": "anonymous"})
    user = login_as("operator", organisation=line.organisation)
    fields = load_draft(user=user, intake_key=_draft_key(client.get(path)))
    assert "caller_phone" not in fields and fields["channel"] == "phone"


def test_a_link_opens_once(app, pop_link, login_as, client, make_user):
    line, path = pop_link()
    first = login_as("operator", organisation=line.organisation)
    key = _draft_key(client.get(path))
    # Opened again by the same operator (a double click, a reload): their intake, unsaved.
    assert _draft_key(client.get(path)) == key
    client.submit(f"/calls/drafts/{key}/discard", page="/calls/drafts")
    again = client.get(path)  # nothing of it is left to go back to
    assert again.status_code == 409
    assert 'data-reason="discarded"' in again.get_data(as_text=True)
    discarded = _vi(
        "Each call link opens once. The intake you started from it was discarded. If you are "
        "still on this call, start a new intake from your desk."
    )
    assert discarded.startswith("Mỗi đường dẫn") and discarded in again.get_data(as_text=True)
    key = None
    colleague = make_user("operator", organisation=line.organisation)
    other = app.test_client()
    sign_in(other, colleague)
    late = other.get(path)
    assert late.status_code == 409 and 'data-reason="claimed"' in late.get_data(as_text=True)
    assert _vi("Another operator has already opened this call") in late.get_data(as_text=True)
    drafts = db.session.execute(select(IntakeDraft.user_id)).scalars().all()
    assert drafts == [] and first.id  # the only draft was discarded; the colleague got none


def test_a_link_opened_again_after_its_intake_was_saved_goes_to_the_saved_call(
    pop_link, login_as, client
):
    """The softphone, a reload or the back button opens the link after the call was saved:
    the operator is told where it went and that nothing was saved twice, not sent looking
    among unsaved intakes for it."""
    from app.calls.intake import Intake, save_intake

    line, path = pop_link()
    operator = login_as("operator", organisation=line.organisation)
    key = _draft_key(client.get(path))
    saved = save_intake(data=Intake(reason="silent", intake_key=key), by=operator)
    db.session.commit()
    assert _draft_key(client.get(path)) == key
    shown = client.get(f"/calls/new?draft={key}")
    assert shown.status_code == 302 and f"saved={saved.call_id}" in shown.location
    assert "again=1" in shown.location  # "already saved; nothing was saved twice"


def test_a_link_opened_again_finds_its_own_intake(pop_link, make_line, login_as, client):
    """Two calls on one line in the same minute, both answered by one operator: each link,
    opened again, gives back its own intake, also after the operator changed its time."""
    line_and_token = make_line()
    line, first_path = pop_link({"caller": NUMBER}, line_and_token)
    _, second_path = pop_link({"caller": "0912 777 888"}, line_and_token)
    user = login_as("operator", organisation=line.organisation)
    first, second = _draft_key(client.get(first_path)), _draft_key(client.get(second_path))
    assert first != second
    fields = load_draft(user=user, intake_key=first)
    fields["started_at"], fields["channel"] = "01/12/2026 07:00", "zalo"
    client.post(
        "/calls/drafts",
        json={"intake_key": str(first), "fields": fields},
        headers={"X-CSRFToken": client.csrf_token("/calls/new")},
    )
    assert _draft_key(client.get(first_path)) == first
    assert _draft_key(client.get(second_path)) == second
    assert load_draft(user=user, intake_key=first)["caller_phone"] == NUMBER


def _claim_at_once(make_app, monkeypatch, token: str, user_ids: list[int]) -> list[object]:
    """Two claims of one link in two threads, both past the "unclaimed?" check before either
    claims; each outcome is a draft key, a PopUnavailable reason or an unexpected exception."""
    worker = make_app()
    both_checked = threading.Barrier(len(user_ids), timeout=30)
    original = pops._mark_claimed

    def after_both_checked(pop, user, now):
        both_checked.wait()  # both have found the pop unclaimed before either claims it
        return original(pop, user, now)

    monkeypatch.setattr(pops, "_mark_claimed", after_both_checked)
    outcomes: list[object] = []

    def claim(user_id: int):
        with worker.app_context():
            try:
                user = db.session.get(User, user_id)
                outcomes.append(pops.claim_pop(token=token, user=user))
            except pops.PopUnavailable as exc:
                outcomes.append(exc.reason)
            except BaseException as exc:  # noqa: BLE001 - reported by the caller's assertion
                outcomes.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=claim, args=(uid,)) for uid in user_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_two_operators_at_the_same_moment_get_exactly_one_claim(
    make_app, pop_link, make_user, monkeypatch
):
    line, path = pop_link()
    token = path.rsplit("/", 1)[1]
    ids = [make_user("operator", organisation=line.organisation).id for _ in range(2)]
    outcomes = _claim_at_once(make_app, monkeypatch, token, ids)
    keys = [o for o in outcomes if isinstance(o, uuid.UUID)]
    assert len(keys) == 1 and [o for o in outcomes if o not in keys] == ["claimed"], outcomes
    assert db.session.execute(select(func.count()).select_from(IntakeDraft)).scalar_one() == 1
    assert _pop().claimed_by_id in ids
    (denied,) = _actions("denied")  # the one who came second: refused, and it is on record
    assert denied.detail == "claimed by another account" and denied.user_id in ids
    assert denied.user_id != _pop().claimed_by_id
    assert denied.organisation_id == line.organisation_id


def test_an_expired_link_shows_a_clear_page(pop_link, login_as, client):
    line, path = pop_link()
    db.session.execute(update(ScreenPop).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    login_as("operator", organisation=line.organisation, language="en")
    response = client.get(path)
    page = response.get_data(as_text=True)
    assert response.status_code == 410 and "This call link has expired" in page
    assert _pop().claimed_at is None
    assert _pop().key_destroyed_at is not None and _pop().caller_phone_sealed is None
    assert db.session.execute(select(func.count()).select_from(IntakeDraft)).scalar_one() == 0
    (denied,) = _actions("denied")
    assert denied.detail == "expired link" and denied.organisation_id == line.organisation_id


def test_a_link_whose_line_was_revoked_meanwhile_opens_nothing(pop_link, make_user, monkeypatch):
    """The line revoked between the link's lookup and its claim: its number was forgotten with
    it, and the claim does not go through on what the lookup had read."""
    line, path = pop_link()
    token = path.rsplit("/", 1)[1]
    operator = make_user("operator", organisation=line.organisation)
    original = pops._mark_claimed

    def revoked_first(pop, user, now):
        pops.forget_expired(now + timedelta(hours=1), line_id=pop.line_id)  # as a revoke does
        return original(pop, user, now)

    monkeypatch.setattr(pops, "_mark_claimed", revoked_first)
    with pytest.raises(pops.PopUnavailable) as refused:
        pops.claim_pop(token=token, user=operator)
    assert refused.value.reason == "expired"
    assert db.session.execute(select(func.count()).select_from(IntakeDraft)).scalar_one() == 0


def test_an_unknown_link_shows_a_clear_page_in_the_users_language(login_as, client):
    opener = login_as("operator")
    response = client.get("/calls/pop/" + "A" * 43)
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert '<html lang="vi">' in page and _vi("This call link cannot be opened") in page
    (denied,) = _actions("denied")
    assert denied.detail == "unknown link" and denied.object_type == "screen_pop"
    # It names no line: filed with the opener's organisation, whose supervisors see it.
    assert denied.organisation_id == opener.organisation_id is not None


@pytest.mark.parametrize(
    ("role", "same_org"),
    [
        ("operator", False),
        ("supervisor", False),
        ("case_manager", True),
        ("admin", True),
        ("partner", True),
        ("partner", False),
    ],
)
def test_other_organisations_and_roles_are_refused_and_audited(
    pop_link, login_as, client, role, same_org
):
    line, path = pop_link()
    user = login_as(role, **({"organisation": line.organisation} if same_org else {}))
    response = client.get(path)
    assert response.status_code == 404
    assert 'data-reason="unknown"' in response.get_data(as_text=True)
    pop = _pop()
    assert pop.claimed_at is None and pop.caller_phone == NUMBER
    (denied,) = _actions("denied")
    assert (denied.user_id, denied.object_id) == (user.id, str(pop.id))
    assert denied.organisation_id == line.organisation_id  # seen by the line's supervisors
    assert db.session.execute(select(func.count()).select_from(IntakeDraft)).scalar_one() == 0


def test_an_anonymous_visitor_signs_in_and_comes_back_to_the_link(pop_link, client, make_user):
    line, path = pop_link()
    response = client.get(path)
    assert response.status_code == 302
    assert urlsplit(response.location).path == "/auth/login"
    client.get(response.location)  # the sign-in page remembers where to go next
    user = make_user("operator", organisation=line.organisation)
    signed_in = sign_in(client, user)
    assert signed_in.location == path
    key = _draft_key(client.get(signed_in.location))
    assert load_draft(user=user, intake_key=key)["caller_phone"] == NUMBER


def test_purge_forgets_expired_numbers_and_deletes_old_pops(app, pop_link, make_line):
    line_and_token = make_line()
    for _ in range(3):
        pop_link(line_and_token=line_and_token)
    db.session.expire_all()
    fresh, expired, old = db.session.execute(select(ScreenPop).order_by(ScreenPop.id)).scalars()
    now = utcnow()
    expired.expires_at = now - timedelta(minutes=1)
    old.expires_at = now - timedelta(days=2)
    db.session.commit()
    expired_id, old_id, fresh_id = expired.id, old.id, fresh.id
    result = app.test_cli_runner().invoke(args=["telephony", "purge"])
    assert result.exit_code == 0, result.output
    assert "2" in result.output and "1" in result.output
    db.session.expire_all()
    assert db.session.get(ScreenPop, old_id) is None
    gone = db.session.get(ScreenPop, expired_id)
    assert gone.key_destroyed_at is not None and gone.caller_phone_sealed is None
    assert db.session.get(ScreenPop, fresh_id).caller_phone == NUMBER


def test_a_call_keeps_only_a_line_of_the_operators_own_organisation(make_line, make_user):
    """The line comes back in a hidden field of the intake: another organisation's line, or
    one that does not exist, is not recorded as the call's (nor a 500 for a missing one)."""
    from app.calls.intake import Intake, save_intake

    own, _token = make_line(name="Tổng đài của mình")
    other, _token = make_line(name="Tổng đài khác")
    operator = make_user("operator", organisation=own.organisation)
    for line_id, kept in ((own.id, own.id), (other.id, None), (987654, None)):
        saved = save_intake(data=Intake(reason="silent", line_id=line_id), by=operator)
        assert saved.call.line_id == kept


def test_a_line_id_that_is_no_number_is_dropped_from_the_page(login_as, client):
    """Not ASCII digits of an integer's size (a page altered by hand): the call is saved
    without a line, never a 500."""
    from tests.calls.test_intake_page import form

    login_as("operator")
    for typed in ("99999999999999999999", "²", "-1", "1e3"):
        data = form(client, reason="silent", outcomes="no_action", line_id=typed)
        response = client.submit("/calls/new", data, page="/calls/new")
        assert response.status_code == 302, typed
    assert db.session.execute(select(Call.line_id)).scalars().all() == [None] * 4


def test_the_same_operator_clicking_twice_at_once_gets_their_one_intake(
    make_app, pop_link, make_user, monkeypatch
):
    """A double click whose two requests race: both land on the one draft, neither on a page
    saying another operator took the call."""
    line, path = pop_link()
    token = path.rsplit("/", 1)[1]
    operator_id = make_user("operator", organisation=line.organisation).id
    outcomes = _claim_at_once(make_app, monkeypatch, token, [operator_id, operator_id])
    assert len(outcomes) == 2 and all(isinstance(o, uuid.UUID) for o in outcomes), outcomes
    assert outcomes[0] == outcomes[1]
    assert db.session.execute(select(func.count()).select_from(IntakeDraft)).scalar_one() == 1


def test_a_new_call_on_a_line_forgets_its_expired_numbers_without_cron(pop_link, make_line):
    line_and_token = make_line()
    pop_link(line_and_token=line_and_token)
    pop_link(line_and_token=line_and_token)
    db.session.expire_all()
    expired, old = db.session.execute(select(ScreenPop).order_by(ScreenPop.id)).scalars()
    now = utcnow()
    expired.expires_at, old.expires_at = now - timedelta(minutes=1), now - timedelta(days=2)
    db.session.commit()
    expired_id, old_id = expired.id, old.id
    pop_link(line_and_token=line_and_token)  # the next call on the line
    db.session.expire_all()
    assert db.session.get(ScreenPop, old_id) is None
    gone = db.session.get(ScreenPop, expired_id)
    assert gone.key_destroyed_at is not None and gone.caller_phone_sealed is None


def test_revoking_a_line_stops_the_links_it_handed_out(pop_link, login_as, client, make_user):
    from app.telephony.services import revoke_line

    line, path = pop_link()
    revoke_line(by=make_user("admin", organisation=line.organisation), line=line)
    assert _pop().key_destroyed_at is not None and _pop().caller_phone_sealed is None
    login_as("operator", organisation=line.organisation, language="en")
    response = client.get(path)
    assert response.status_code == 410 and "This call link has expired" in response.get_data(
        as_text=True
    )
    assert db.session.execute(select(func.count()).select_from(IntakeDraft)).scalar_one() == 0

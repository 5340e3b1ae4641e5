"""A consent named one organisation, which stopped receiving referrals while the form waited
(a draft, a page sent back): the page keeps it chosen and marked, never showing "any provider"
in its place (a consent to one organisation would be widened to all, unseen), and the save
refuses it until the person chooses again."""

import re
import uuid

from sqlalchemy import func, select

from app.calls.drafts import save_draft
from app.cases.models import Consent
from app.extensions import db
from tests.calls.test_intake_page import count, form
from tests.cases.test_case_drafts import keep, left_a_while
from tests.conftest import sign_in

GONE_VI = "không còn nhận chuyển gửi"


def selected_option(page: str, name: str) -> tuple[str, str] | None:
    select_ = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    found = re.search(r"<option selected value=\"([^\"]*)\">([^<]*)</option>", select_[1])
    return (found[1], found[2]) if found else None


def test_an_intake_brought_back_keeps_a_recipient_gone_since_and_refuses_it(
    client, login_as, make_org
):
    user = login_as("operator")
    shelter = make_org(name="Nhà tạm lánh Hoa Sen", kind="shelter")
    key = uuid.uuid4()
    fields = form(
        client,
        intake_key=str(key),
        reason="violence_report",
        survivor_name="Vũ Thị Mai",
        consent_services=["shelter"],
        consent_share="yes",
        consent_recipient=str(shelter.id),
    )
    save_draft(user=user, intake_key=key, fields=fields)
    shelter.active = False
    db.session.commit()

    page = client.get(f"/calls/new?draft={key}").get_data(as_text=True)
    value, label = selected_option(page, "consent_recipient")
    assert value == str(shelter.id)
    assert "Nhà tạm lánh Hoa Sen" in label and GONE_VI in label

    fields["intake_key"] = str(key)
    page = client.submit("/calls/new", fields, page="/calls/new").get_data(as_text=True)
    assert "không còn nằm trong số các đơn vị nhận chuyển gửi" in page
    assert selected_option(page, "consent_recipient")[0] == str(shelter.id)  # still as chosen
    assert "Vũ Thị Mai" in page
    assert db.session.execute(select(func.count(Consent.id))).scalar_one() == 0

    fields["consent_recipient"] = ""  # asked again: any provider
    assert client.submit("/calls/new", fields, page="/calls/new").status_code == 302
    assert count(Consent) >= 1


def test_a_case_consent_draft_keeps_a_recipient_gone_since_and_refuses_it(
    client, case_of, make_org
):
    case, people = case_of
    shelter = make_org(name="Nhà tạm lánh Hoa Sen", kind="shelter")
    sign_in(client, people["manager"])
    typed = {
        "consent_services": ["shelter"],
        "consent_share": "yes",
        "consent_given_by": "survivor",
        "consent_recipient": str(shelter.id),
    }
    assert keep(client, case, "consent", typed).status_code == 200
    shelter.active = False
    db.session.commit()
    left_a_while()

    url = f"/cases/{case.id}/consent"
    before = db.session.execute(select(func.count(Consent.id))).scalar_one()
    page = client.get(url).get_data(as_text=True)
    value, label = selected_option(page, "consent_recipient")
    assert value == str(shelter.id) and GONE_VI in label

    page = client.submit(url, typed, page=url).get_data(as_text=True)
    assert "không còn nằm trong số các đơn vị nhận chuyển gửi" in page
    assert selected_option(page, "consent_recipient")[0] == str(shelter.id)
    db.session.rollback()
    assert db.session.execute(select(func.count(Consent.id))).scalar_one() == before


def test_a_recipient_never_offered_is_not_named(client, login_as, make_org):
    """Only an organisation deactivated since is named: the hotline's own, or one still
    active, posted by hand, is shown as unknown (and refused), telling nothing."""
    user = login_as("operator")
    for value in (str(user.organisation_id), "987654"):
        fields = form(
            client,
            reason="violence_report",
            survivor_name="Vũ Thị Mai",
            consent_services=["shelter"],
            consent_recipient=value,
        )
        page = client.submit("/calls/new", fields, page="/calls/new").get_data(as_text=True)
        chosen = selected_option(page, "consent_recipient")
        assert chosen == (value, "Một đơn vị không còn trong danh sách")
        assert user.organisation.name not in chosen[1]

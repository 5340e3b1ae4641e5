"""Two people editing a case at once: the conflict screen tells who changed what since the
second editor started, and saving from it keeps the other person's changes to fields the
second editor did not touch."""

from html.parser import HTMLParser

from werkzeug.datastructures import MultiDict

from app.cases import merge
from app.extensions import db
from tests.conftest import sign_in


class _Form(HTMLParser):
    """The values a browser would send for the page's (last) form as it stands."""

    def __init__(self):
        super().__init__()
        self.values: MultiDict = MultiDict()
        self._textarea: str | None = None
        self._select: str | None = None
        self._option: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.values = MultiDict()
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button"):
                self.values.add(a["name"], a.get("value", "on" if kind == "checkbox" else ""))
        elif tag == "textarea":
            self._textarea = a["name"]
            self.values.add(self._textarea, "")
        elif tag == "select":
            self._select, self._option = a["name"], None
        elif tag == "option" and self._select:
            if self._option is None or "selected" in a:
                self._option = a.get("value", "")

    def handle_data(self, data):
        if self._textarea:
            typed = self.values.get(self._textarea)
            if not typed:  # a browser drops the line break that opens a textarea's text
                data = data[2:] if data.startswith("\r\n") else data.removeprefix("\n")
            self.values.setlist(self._textarea, [typed + data])

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select" and self._select:
            self.values.add(self._select, self._option or "")
            self._select = None


def form_of(html: str) -> MultiDict:
    parser = _Form()
    parser.feed(html)
    return parser.values


def _editors(app, client, case_of):
    """The case manager and a supervisor, each with the edit form open on the same version."""
    case, people = case_of
    first = app.test_client()
    sign_in(first, people["manager"])
    sign_in(client, people["supervisor"])
    url = f"/cases/{case.id}/edit"
    return (
        case,
        url,
        (first, form_of(first.get(url).get_data(as_text=True))),
        (
            client,
            form_of(client.get(url).get_data(as_text=True)),
        ),
    )


def _typed(form: MultiDict, **changes) -> MultiDict:
    typed = form.copy()
    for name, value in changes.items():
        typed.setlist(name, value if isinstance(value, list) else [value])
    return typed


def test_changes_to_different_fields_are_both_kept(app, client, case_of):
    case, url, (first, first_form), (second, second_form) = _editors(app, client, case_of)
    assert first_form["base"] and "Hạnh" not in first_form["base"]
    assert first.post(url, data=_typed(first_form, safe_contact="Gọi sau 20h")).status_code == 302
    clash = second.post(url, data=_typed(second_form, survivor_name="Hạnh (bí danh)"))
    assert clash.status_code == 409
    page = clash.get_data(as_text=True)
    assert "Người kia đã sửa; bạn để nguyên." in page  # safe contact: only they changed it
    assert "Chỉ bạn đã sửa." in page  # the name: only this editor changed it
    answer = form_of(page)
    assert answer["pick-safe_contact"] == "theirs" and answer["pick-survivor_name"] == "mine"
    assert second.post(url, data=answer).status_code == 302  # saved as marked, untouched
    db.session.refresh(case)
    assert (case.survivor_name, case.safe_contact) == ("Hạnh (bí danh)", "Gọi sau 20h")


def test_a_field_both_changed_is_marked_and_either_value_can_be_kept(app, client, case_of):
    case, url, (first, first_form), (second, second_form) = _editors(app, client, case_of)
    theirs = {"survivor_name": "Hạnh A", "services_wanted": ["health"]}
    first.post(url, data=_typed(first_form, **theirs))
    mine = {"survivor_name": "Hạnh B", "survivor_address": "Xóm 3", "services_wanted": []}
    page = second.post(url, data=_typed(second_form, **mine)).get_data(as_text=True)
    assert "Cả hai đã sửa: hãy chọn giữ bản nào." in page
    answer = form_of(page)
    assert "pick-survivor_name" not in answer  # both changed it: no choice made for the editor
    assert answer["pick-survivor_address"] == "mine"
    assert answer["pick-services_wanted"] == "theirs"  # the list: only they changed it
    answer["pick-services_wanted"] = "mine"  # a choice switched, then sent without the missing one
    again = second.post(url, data=answer)
    assert again.status_code == 409
    page = again.get_data(as_text=True)
    assert "Chưa lưu gì: hãy chọn giữ giá trị nào ở mỗi dòng cả hai cùng sửa." in page
    assert "Cả hai đã sửa: hãy chọn giữ bản nào." in page  # the rows as they were
    answer = form_of(page)
    assert "pick-survivor_name" not in answer and answer["pick-services_wanted"] == "mine"
    db.session.refresh(case)
    assert case.survivor_name == "Hạnh A"  # nothing saved meanwhile
    answer["pick-survivor_name"] = "theirs"
    answer["pick-services_wanted"] = "theirs"
    assert second.post(url, data=answer).status_code == 302
    db.session.refresh(case)
    assert (case.survivor_name, case.survivor_address) == ("Hạnh A", "Xóm 3")
    assert case.services_wanted == "health"


def test_a_third_save_before_the_choice_is_sent_is_compared_from_the_second_version(
    app, client, case_of
):
    case, url, (first, first_form), (second, second_form) = _editors(app, client, case_of)
    first.post(url, data=_typed(first_form, safe_contact="Gọi sau 20h"))
    answer = form_of(
        second.post(url, data=_typed(second_form, survivor_name="Hạnh B")).get_data(as_text=True)
    )
    third = form_of(first.get(url).get_data(as_text=True))
    assert first.post(url, data=_typed(third, survivor_address="Xóm 3")).status_code == 302
    again = second.post(url, data=answer)
    assert again.status_code == 409
    answer = form_of(again.get_data(as_text=True))
    # The safe contact was settled on the first screen; now only the address (theirs, new) and
    # the name (this editor's) differ.
    assert "pick-safe_contact" not in answer
    assert answer["pick-survivor_address"] == "theirs" and answer["pick-survivor_name"] == "mine"
    assert second.post(url, data=answer).status_code == 302
    db.session.refresh(case)
    assert (case.survivor_name, case.safe_contact, case.survivor_address) == (
        "Hạnh B",
        "Gọi sau 20h",
        "Xóm 3",
    )


def test_a_start_not_known_leaves_every_differing_field_to_the_editor(app):
    """A page from before fingerprints, or an altered one: nothing is assumed about who changed
    a field, so the editor's values stay marked, as before."""
    import uuid

    case_id = uuid.uuid4()
    with app.test_request_context():
        base = merge.fingerprints(case_id, {"survivor_name": "A"})
        assert merge.read_base(base) is not None
        assert merge.read_base(base[:-1] + "g") is None
        assert merge.read_base("") is None
        assert merge.who_changed(case_id, "survivor_name", None, "A", "B") == "both"
        known = merge.read_base(base)
        assert merge.who_changed(case_id, "survivor_name", known, "A", "B") == "theirs"
        assert merge.who_changed(case_id, "survivor_name", known, "B", "A") == "mine"
        # Another case's fingerprint never matches: the start counts as changed by both.
        other = merge.read_base(merge.fingerprints(uuid.uuid4(), {"survivor_name": "A"}))
        assert merge.who_changed(case_id, "survivor_name", other, "A", "B") == "both"
        # A form's round trip is not a change.
        lines = merge.read_base(merge.fingerprints(case_id, {"summary": "một\nhai"}))
        assert merge.who_changed(case_id, "summary", lines, "một\r\nhai ", "ba") == "theirs"


def test_a_commune_and_its_province_are_chosen_together(app, client, case_of):
    """They moved the survivor to another province; this editor changed the commune in the old
    one: the pair is chosen together, so no pair the edit refuses is marked."""
    from app.places.queries import commune_choices

    case, people = case_of
    old_one, old_two = (code for code, _ in commune_choices("01")[:2])
    case.province_code, case.commune_code = "01", old_one
    db.session.commit()
    new_one = commune_choices("79")[0][0]
    case, url, (first, first_form), (second, second_form) = _editors(app, client, case_of)
    first.post(url, data=_typed(first_form, province_code="79", commune_code=new_one))
    page = second.post(url, data=_typed(second_form, commune_code=old_two)).get_data(as_text=True)
    assert "Cả hai đã sửa: hãy chọn giữ bản nào." in page  # the commune: both changed it
    answer = form_of(page)
    # The commune waits for a choice, so the province does too: never one side of each.
    assert "pick-province_code" not in answer and "pick-commune_code" not in answer
    answer["pick-province_code"] = answer["pick-commune_code"] = "theirs"
    assert second.post(url, data=answer).status_code == 302
    db.session.refresh(case)
    assert (case.province_code, case.commune_code) == ("79", new_one)


def test_a_date_of_birth_of_spaces_only_is_no_date(client, case_of):
    case, people = case_of
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}/edit"
    form = form_of(client.get(url).get_data(as_text=True))
    assert client.post(url, data=_typed(form, survivor_birth_date="   ")).status_code == 302
    db.session.refresh(case)
    assert case.survivor_birth_date is None


def test_a_line_break_a_one_line_box_cannot_send_back_is_no_change(app):
    """An imported address may hold a line break; its one-line box sends it back without."""
    import uuid

    case_id = uuid.uuid4()
    with app.test_request_context():
        base = merge.read_base(merge.fingerprints(case_id, {"survivor_address": "Xóm 3\nThôn 2"}))
        assert (
            merge.who_changed(case_id, "survivor_address", base, "Xóm 3Thôn 2", "Xóm 4") == "theirs"
        )


def test_services_both_changed_wait_for_a_choice_even_when_they_cleared_them(app, client, case_of):
    case, people = case_of
    case.services_wanted = "legal"
    db.session.commit()
    case, url, (first, first_form), (second, second_form) = _editors(app, client, case_of)
    first.post(url, data=_typed(first_form, services_wanted=[]))  # they cleared every service
    page = second.post(url, data=_typed(second_form, services_wanted=["legal", "health"]))
    answer = form_of(page.get_data(as_text=True))
    assert answer["who-services_wanted"] == "both" and "pick-services_wanted" not in answer
    again = second.post(url, data=answer)  # sent as it came, no choice made
    assert again.status_code == 409
    assert "Chưa lưu gì" in again.get_data(as_text=True)
    db.session.refresh(case)
    assert case.services_wanted == ""
    answer = form_of(again.get_data(as_text=True))
    answer["pick-services_wanted"] = "theirs"
    assert second.post(url, data=answer).status_code == 302
    db.session.refresh(case)
    assert case.services_wanted == ""


def test_a_row_left_unchosen_stays_unchosen_when_the_case_moved_on_meanwhile(app, client, case_of):
    """A colleague's note makes a newer version: the screen comes back compared with it, and
    the field both changed is still theirs and the editor's, not the editor's alone."""
    case, url, (first, first_form), (second, second_form) = _editors(app, client, case_of)
    first.post(url, data=_typed(first_form, survivor_name="Hạnh A"))
    answer = form_of(
        second.post(url, data=_typed(second_form, survivor_name="Hạnh B")).get_data(as_text=True)
    )
    note = {"kind": "note", "body": "Đã gọi lại"}
    show = f"/cases/{case.id}"
    assert first.submit(f"{show}/notes", note, page=show).status_code == 302
    again = second.post(url, data=answer)
    assert again.status_code == 409
    page = again.get_data(as_text=True)
    assert "Cả hai đã sửa: hãy chọn giữ bản nào." in page
    answer = form_of(page)
    assert "pick-survivor_name" not in answer
    db.session.refresh(case)
    assert case.survivor_name == "Hạnh A"


def test_services_each_added_can_be_kept_together(app, client, case_of):
    """One adds a shelter, the other legal aid: besides either list, both together."""
    case, people = case_of
    case.services_wanted = "health"
    db.session.commit()
    case, url, (first, first_form), (second, second_form) = _editors(app, client, case_of)
    first.post(url, data=_typed(first_form, services_wanted=["health", "shelter"]))
    page = second.post(url, data=_typed(second_form, services_wanted=["health", "legal"]))
    assert page.status_code == 409
    html = page.get_data(as_text=True)
    assert "Cả hai danh sách" in html
    answer = form_of(html)
    assert answer["who-services_wanted"] == "both" and "pick-services_wanted" not in answer
    answer["pick-services_wanted"] = "both"
    assert second.post(url, data=answer).status_code == 302
    db.session.refresh(case)
    assert set(case.services_wanted.split()) == {"health", "shelter", "legal"}


def test_no_third_choice_when_one_list_holds_the_other(app, client, case_of):
    case, url, (first, first_form), (second, second_form) = _editors(app, client, case_of)
    first.post(url, data=_typed(first_form, services_wanted=["health", "shelter"]))
    page = second.post(url, data=_typed(second_form, services_wanted=["health"]))
    assert "Cả hai danh sách" not in page.get_data(as_text=True)
    assert merge.both_lists("survivor_name", "a", "b") is None
    assert merge.together(["legal"], "health legal") == ["legal", "health"]


def test_what_was_sent_into_the_conflict_screen_comes_back_once_it_is_left(app, client, case_of):
    """The page's autosave stops as it sends: a number typed in the seconds before Save, met by
    the conflict screen, is kept as the page's draft, so the editor who looks at the case and
    opens the form again finds it (and, saving, meets the screen again: the case moved)."""
    case, url, (first, first_form), (second, second_form) = _editors(app, client, case_of)
    assert first.post(url, data=_typed(first_form, safe_contact="Gọi sau 20h")).status_code == 302
    sent = _typed(second_form, survivor_name="Đỗ Thị Hoa", survivor_phone="0912 345 678")
    assert second.post(url, data=sent).status_code == 409  # the conflict screen
    second.get(f"/cases/{case.id}")  # left, to look at the case
    back = second.get(url).get_data(as_text=True)
    assert "Đỗ Thị Hoa" in back and "0912 345 678" in back
    again = form_of(back)
    assert second.post(url, data=again).status_code == 409  # still from the older version


def test_a_form_sent_again_after_a_colleague_put_a_field_back_changes_nothing(app, client, case_of):
    """The manager's edit is saved, its answer lost; a supervisor puts the name back as it was;
    the manager's page sends the same form again (a retry). It was saved once: it changes
    nothing, and the supervisor's correction stays."""
    case, url, (first, first_form), (second, _) = _editors(app, client, case_of)
    original = case.survivor_name
    mine = _typed(first_form, survivor_name="Tên sai")
    assert first.post(url, data=mine).status_code == 302
    theirs = form_of(second.get(url).get_data(as_text=True))
    assert second.post(url, data=_typed(theirs, survivor_name=original)).status_code == 302
    again = first.post(url, data=mine)
    assert again.status_code == 302
    db.session.refresh(case)
    assert case.survivor_name == original
    told = first.get(again.location).get_data(as_text=True)
    assert "Đã lưu thay đổi." in told

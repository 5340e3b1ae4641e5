"""The intake form's own speed-ups keep WTForms' behaviour: fields bound by copying a prototype
(QuickBind) and choices checked against a set of codes give the same data, errors and HTML as
WTForms' own binding and checks, in both languages."""

import pytest
from flask_babel import force_locale
from werkzeug.datastructures import MultiDict
from wtforms.fields import SelectField, SelectMultipleField

from app.calls.forms import IntakeForm
from app.form_fields import QuickBind
from app.places.form_choices import fill_place_choices
from app.places.services import load_places


class FreshForm(IntakeForm):
    """The intake form with WTForms' own binding and choice checks, as the reference."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            return unbound_field.bind(form=form, **options)


def reference_checks(form) -> None:
    """Put WTForms' own pre_validate back on every choice field of a form."""
    for field in form:
        if isinstance(field, SelectMultipleField):
            field.pre_validate = SelectMultipleField.pre_validate.__get__(field)
        elif isinstance(field, SelectField):
            field.pre_validate = SelectField.pre_validate.__get__(field)


GOOD = {
    "intake_key": "0b0f6a2e-8a31-4a55-9a7c-0d6f3c1d2e10",
    "started_at": "22/11/2026 09:30",
    "channel": "zalo",
    "caller_type": "relative",
    "reason": "violence_report",
    "outcomes": ["counselled", "case_opened"],
    "danger": ["danger_now"],
    "survivor_name": "Nguyễn Thị Lan",
    "survivor_sex": "female",
    "survivor_age": "34",
    "province_code": "01",
    "acts": ["a_beating", "b_insults"],
    "perpetrator_alcohol": "yes",
    "risk_answers": ["escalating"],
    "consent_share": "no",
    "consent_services": ["health"],
}
BAD = {
    **GOOD,
    "channel": "pigeon",  # not a code
    "reason": "",  # required
    "outcomes": ["counselled", "teleported", "vanished"],  # two unknown codes
    "consent_share": "perhaps",  # a radio outside its codes
    "province_code": "99",  # no such province
    "survivor_age": "ba mươi",
    "started_at": "31/02/2026 09:30",
}


def as_formdata(fields: dict) -> MultiDict:
    return MultiDict(
        [(k, item) for k, v in fields.items() for item in (v if isinstance(v, list) else [v])]
    )


def seen(form_class, fields: dict, language: str, *, reference: bool = False) -> dict:
    """Everything a page gets from the form: validity, data, errors, each field's HTML."""
    with force_locale(language):
        form = form_class(formdata=as_formdata(fields))
        if reference:
            reference_checks(form)
        fill_place_choices(form)
        valid = form.validate()
        return {
            "valid": valid,
            "data": {f.name: f.data for f in form},
            "errors": {name: [str(e) for e in errors] for name, errors in form.errors.items()},
            "html": {f.name: (str(f.label), str(f)) for f in form},
        }


@pytest.fixture
def places(app):
    load_places()


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("fields", [GOOD, BAD], ids=["good", "bad"])
def test_the_quick_form_is_wtforms_own(app, places, fields, language):
    with app.test_request_context("/calls/new", method="POST"):
        for _ in range(2):  # the second form is made from the prototypes the first left
            quick = seen(IntakeForm, fields, language)
            assert quick == seen(FreshForm, fields, language, reference=True)
    if fields is BAD:
        assert not quick["valid"]
        assert set(quick["errors"]) >= {"channel", "reason", "outcomes", "consent_share"}
        assert "province_code" in quick["errors"] and "survivor_age" in quick["errors"]
        assert "teleported" in quick["errors"]["outcomes"][0]


def test_what_one_form_is_given_stays_with_it(app, places):
    """Choices and render_kw set on one request's form do not reach the next form, and the
    next form in another language has its own labels."""
    with app.test_request_context("/calls/new", method="POST"):
        first = IntakeForm(formdata=as_formdata(GOOD))
        fill_place_choices(first)
        first.channel.choices.append(("pigeon", "Bồ câu"))
        first.caller_phone.render_kw["data-extra"] = "yes"
        first.caller_phone.data = "0912 345 678"
        second = IntakeForm(formdata=as_formdata(BAD))
        assert not second.validate() and "channel" in second.errors
        assert "data-extra" not in str(second.caller_phone)
        assert second.caller_phone.data is None
        assert second.caller_phone is not first.caller_phone
        assert second.caller_phone._form is second
        with force_locale("en"):
            english = IntakeForm(formdata=None)
            assert "Channel" in str(english.channel.label)
        assert "Kênh" in str(second.channel.label)
    assert QuickBind._prototypes  # the forms above were made from prototypes


def test_a_field_added_per_form_is_bound_as_usual(app):
    """Flask-WTF's CSRF field is made for each form, never kept as a prototype."""
    assert app.config["WTF_CSRF_ENABLED"]
    with app.test_request_context("/calls/new", method="POST"):
        one, two = IntakeForm(), IntakeForm()
        assert one.csrf_token is not two.csrf_token and one.csrf_token._form is one
    assert not [key for key in QuickBind._prototypes if key[1] == "csrf_token"]


def test_the_commune_list_follows_the_province(app, places):
    """No province: only the blank commune; a known one: its communes; text naming no province:
    only the blank one, and nothing kept for it."""
    from app.places.queries import directory

    with app.test_request_context("/calls/new", method="POST"):
        for province, expected in (("", 1), ("99", 1), ("ba mươi", 1)):
            form = IntakeForm(formdata=as_formdata({**GOOD, "province_code": province}))
            fill_place_choices(form)
            assert len(form.commune_code.choices) == expected, province
            assert len(form.province_code.choices) == 35  # blank and the 34 provinces
        form = IntakeForm(formdata=as_formdata(GOOD))  # Hà Nội
        fill_place_choices(form)
        communes = [c.value for c in form.commune_code.choices[1:]]
        assert communes and all(directory().parents[code] == "01" for code in communes)
        kept = directory().options
        assert ("communes", "01") in kept and ("provinces",) in kept
        assert not [key for key in kept if key[-1] in ("", "99", "ba mươi")]

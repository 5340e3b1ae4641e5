"""Account and organisation forms for admins: shape only."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from app.auth.forms import REQUIRED
from app.auth.labels import KIND_LABELS, ROLE_LABELS
from app.form_fields import one_line

LANGUAGE_CHOICES = [SelectChoice("vi", "Tiếng Việt"), SelectChoice("en", "English")]


def choices(labels: dict) -> list[SelectChoice]:
    """Select options from a code-to-label mapping."""
    return [SelectChoice(code, label) for code, label in labels.items()]


class UserForm(FlaskForm):
    """An account's details; the organisation choices are set by the view."""

    full_name = StringField(
        _l("Full name"), validators=[DataRequired(REQUIRED), Length(max=200), one_line]
    )
    email = StringField(
        _l("Email"),
        validators=[
            DataRequired(REQUIRED),
            Length(max=254),
            Email(_l("Enter a valid email address.")),
        ],
        render_kw={"spellcheck": "false", "autocomplete": "off"},
    )
    role = SelectField(_l("Role"), choices=choices(ROLE_LABELS))
    organisation_id = SelectField(_l("Organisation"), coerce=int, choices=[])
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)
    seen = HiddenField()  # what the account held when the form was opened (edit conflicts)
    # The language the form was opened with: the user's own choice made meanwhile (the footer,
    # the sign-in page) is kept unless the admin changed the language on this form.
    language_shown = HiddenField()
    submit = SubmitField(_l("Save"))


class OrganisationForm(FlaskForm):
    """An organisation's details."""

    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=200), one_line])
    code = StringField(
        _l("Short code (used in case numbers)"),
        validators=[
            DataRequired(REQUIRED),
            Length(max=12),
            Regexp(r"^[A-Za-z0-9]+$", message=_l("Use letters and digits only.")),
        ],
    )
    kind = SelectField(_l("Kind"), choices=choices(KIND_LABELS))
    province_code = StringField(_l("Province code"), validators=[Optional(), Length(max=8)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40), one_line])
    active = BooleanField(_l("Active"), default=True)
    seen = HiddenField()  # as UserForm.seen
    submit = SubmitField(_l("Save"))

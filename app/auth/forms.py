"""Sign-in and account forms: shape only; the rules live in services."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

REQUIRED = _l("This field is required.")


class LoginForm(FlaskForm):
    """Email and password; the password is never sent back to the page."""

    email = StringField(
        _l("Email"),
        validators=[DataRequired(REQUIRED), Length(max=254)],
        render_kw={"autocomplete": "username", "autofocus": True, "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(REQUIRED), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Sign in"))


class CodeForm(FlaskForm):
    """A six-digit one-time code, or a recovery code."""

    code = StringField(
        _l("Code"),
        validators=[DataRequired(REQUIRED), Length(max=20)],
        render_kw={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"},
    )
    submit = SubmitField(_l("Continue"))


class EnrolForm(FlaskForm):
    """The first code from the authenticator app, proving it was set up."""

    code = StringField(
        _l("Six-digit code from the app"),
        validators=[DataRequired(REQUIRED), Length(min=6, max=8)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
    # Asked when set up from the account page (signed in), not during a sign-in just checked.
    password = PasswordField(
        _l("Your password"),
        validators=[Optional()],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Turn on one-time codes"))


class ChangePasswordForm(FlaskForm):
    """The current password and a new one typed twice."""

    current = PasswordField(
        _l("Current password"),
        validators=[DataRequired(REQUIRED)],
        render_kw={"autocomplete": "current-password"},
    )
    new = PasswordField(
        _l("New password"),
        validators=[DataRequired(REQUIRED), Length(max=256)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(REQUIRED), EqualTo("new", _l("The two new passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Change password"))


class PasswordConfirmForm(FlaskForm):
    """A password check before a sensitive account change."""

    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(REQUIRED)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Confirm"))


class LanguageForm(FlaskForm):
    """The interface language."""

    language = SelectField(
        _l("Language"), choices=[SelectChoice("vi", "Tiếng Việt"), SelectChoice("en", "English")]
    )
    next = HiddenField()
    submit = SubmitField(_l("Save language"))


class ActionForm(FlaskForm):
    """A form with only a CSRF token, for buttons that change state."""

    submit = SubmitField(_l("Confirm"))

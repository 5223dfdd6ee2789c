"""Forms for sign-in, the second factor, passwords and user administration."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import Email, EqualTo, InputRequired, Length

from inquiry_desk.accounts.models import Role
from inquiry_desk.core.forms import SelectChoice, language_choices, select_choices

PASSWORD_MIN = 12


def role_choices() -> list[SelectChoice]:
    labels = {
        Role.VIEWER: _l("Viewer (reads inquiries)"),
        Role.OFFICER: _l("Officer (triages and answers)"),
        Role.LEAD: _l("Lead (approves and manages)"),
        Role.ADMIN: _l("Administrator (users and settings)"),
    }
    return select_choices((role.value, labels[role]) for role in Role)


class LoginForm(FlaskForm):
    # A text field with the email keyboard: HTML allows autocomplete="username" (what password
    # managers look for) on a text input only.
    email = StringField(
        _l("Email address"),
        validators=[InputRequired(_l("Enter your email address.")), Length(max=320)],
        render_kw={"autocomplete": "username", "inputmode": "email", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[InputRequired(_l("Enter your password.")), Length(max=1000)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Continue"))


class SecondFactorForm(FlaskForm):
    code = StringField(
        _l("Code from your authenticator app, or a recovery code"),
        validators=[InputRequired(_l("Enter the code.")), Length(max=40)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "text", "spellcheck": "false"},
    )
    submit = SubmitField(_l("Sign in"))


class EnrolForm(FlaskForm):
    code = StringField(
        _l("6-digit code from your authenticator app"),
        validators=[InputRequired(_l("Enter the 6-digit code.")), Length(max=10)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
    submit = SubmitField(_l("Confirm and continue"))


def _new_password_field(label: str) -> PasswordField:
    return PasswordField(
        label,
        validators=[
            InputRequired(_l("Enter a new password.")),
            Length(min=PASSWORD_MIN, max=1000, message=_l("The password must have at least 12 characters.")),
        ],
        render_kw={"autocomplete": "new-password"},
        description=_l("At least 12 characters. A phrase of several words is easy to remember."),
    )


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[InputRequired(_l("Enter your current password."))],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = _new_password_field(_l("New password"))
    confirm_password = PasswordField(
        _l("New password again"),
        validators=[InputRequired(_l("Enter the new password again.")),
                    EqualTo("new_password", _l("The two new passwords are not the same."))],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Change password"))


class NewUserForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[InputRequired(_l("Enter the person's name.")), Length(max=200)])
    email = EmailField(
        _l("Email address"),
        validators=[InputRequired(_l("Enter an email address.")),
                    Email(_l("Enter an email address like name@example.org.")), Length(max=320)],
    )
    role = SelectField(_l("Role"), choices=role_choices)
    language = SelectField(_l("Language"), choices=language_choices,
                           description=_l("The invitation and every email to this person are in this language."))
    submit = SubmitField(_l("Send the invitation"))


class InvitationForm(FlaskForm):
    """The invited person sets their own password (issue 10: no temporary password handed over)."""

    new_password = _new_password_field(_l("Your password"))
    confirm_password = PasswordField(
        _l("Your password again"),
        validators=[InputRequired(_l("Enter the password again.")),
                    EqualTo("new_password", _l("The two passwords are not the same."))],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Set my password"))


class EditUserForm(FlaskForm):
    role = SelectField(_l("Role"), choices=role_choices)
    active = BooleanField(_l("Account is active (the person can sign in)"))
    submit = SubmitField(_l("Save changes"))


class DigestPreferenceForm(FlaskForm):
    wants_digest = BooleanField(
        _l("Send me the daily digest"),
        description=_l("One email each morning: new inquiries, and yours that are due soon or overdue."),
    )


class RecoveryCodesForm(FlaskForm):
    """New recovery codes replace the old ones: the password is asked again, a session alone is not enough."""

    password = PasswordField(
        _l("Your password"),
        validators=[InputRequired(_l("Enter your password."))],
        render_kw={"autocomplete": "current-password"},
    )


class NotificationPreferenceForm(FlaskForm):
    wants_notifications = BooleanField(
        _l("Email me when an inquiry is assigned to me or its stakeholder replies"),
        description=_l("The inbox marks new replies either way."),
    )


class ConfirmForm(FlaskForm):
    """A button that only carries the CSRF token (sign out, reset a second factor)."""

    submit = SubmitField(_l("Confirm"))

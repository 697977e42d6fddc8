"""Forms for signing in and for the admin's staff and ward pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.validators import (
    Length,
    Optional,
    ValidationError,
)

from carelog.accounts import passwords
from carelog.accounts.roles import Role
from carelog.web.fields import max_length, options, required


class SignInForm(FlaskForm):
    """Username and password; no remember-me on a shared tablet."""

    username = StringField(
        "Username", validators=[required("Enter your username."), max_length(40)]
    )
    password = PasswordField(
        "Password", validators=[required("Enter your password."), max_length(200)]
    )


class ChoosePasswordForm(FlaskForm):
    """A password of one's own, typed twice, in place of one someone else chose."""

    password = PasswordField(
        "New password", validators=[required("Enter a new password."), max_length(200)]
    )
    again = PasswordField(
        "The new password again", validators=[required("Type the new password again.")]
    )

    def validate_again(self, field):
        if field.data != self.password.data:
            raise ValidationError("The two passwords differ: type the same one twice.")


class SignOutForm(FlaskForm):
    """An empty form so that signing out is a POST with a CSRF token."""


class WardForm(FlaskForm):
    """A ward's name."""

    name = StringField("Ward name", validators=[required(), max_length(80)])


class UserForm(FlaskForm):
    """A staff account; the password is set only when creating or resetting it."""

    username = StringField(
        "Username (used to sign in)",
        validators=[required(), Length(min=3, max=40, message="Use 3 to 40 characters.")],
    )
    full_name = StringField("Full name", validators=[required(), max_length(120)])
    role = SelectField("Role", choices=options((r.value, r.label) for r in Role))
    ward_id = SelectField("Ward (for nurses)", coerce=int, validate_choice=True)
    registration_number = StringField(
        "Professional registration number (optional)", validators=[Optional(), max_length(40)]
    )
    # Blank keeps the current password; anything else must meet the rules (no Optional(),
    # which would let a password of spaces through as "blank").
    password = PasswordField("Password")

    def validate_password(self, field):
        if field.data:
            problem = passwords.password_problem(field.data, self.username.data or "")
            if problem:
                raise ValidationError(problem)

    def validate_username(self, field):
        if not all(c.isalnum() or c in "._-" for c in field.data):
            raise ValidationError("Use letters, digits, dots, dashes or underscores only.")

    def validate_ward_id(self, field):
        if self.role.data == Role.NURSE and not field.data:
            raise ValidationError("A nurse must belong to a ward.")


class ReasonForm(FlaskForm):
    """A required reason, for changes that must say why."""

    reason = StringField(
        "Reason", validators=[required("Say why, in a few words."), max_length(300)]
    )


class AccessDecisionForm(FlaskForm):
    """Approve or refuse a request for clinical access; a refusal says why."""

    decision = SelectField(
        "Decision", choices=options([("approve", "Approve"), ("refuse", "Refuse")])
    )
    note = StringField("Note (needed to refuse)", validators=[Optional(), max_length(300)])

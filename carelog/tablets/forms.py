"""Forms for enrolling and revoking tablets, choosing a PIN and switching nurse."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, RadioField, SelectField, StringField
from wtforms.validators import ValidationError

from carelog.tablets.pins import pin_problem
from carelog.web.boundary import record_id
from carelog.web.fields import max_length, required


class EnrolForm(FlaskForm):
    """Enrol the tablet in hand: a name people recognise and the ward it stays on."""

    name = StringField(
        "Name of this tablet",
        validators=[required("Give the tablet a name staff recognise."), max_length(80)],
    )
    ward_id = SelectField("Ward it stays on", coerce=int, validate_choice=True)


class PinForm(FlaskForm):
    """A PIN of 4 to 6 digits, typed twice, confirmed with the password."""

    password = PasswordField(
        "Your password", validators=[required("Type your password."), max_length(200)]
    )
    pin = PasswordField(
        "New PIN (4 to 6 digits)", validators=[required("Type a PIN of 4 to 6 digits.")]
    )
    again = PasswordField("The PIN again", validators=[required("Type the PIN again.")])

    def validate_pin(self, field):
        problem = pin_problem(field.data)
        if problem:
            raise ValidationError(problem)

    def validate_again(self, field):
        if field.data != self.pin.data:
            raise ValidationError("The two PINs differ: type the same one twice.")


class SwitchForm(FlaskForm):
    """Tap your name, type your PIN."""

    user_id = RadioField(
        "Who is taking the tablet?",
        coerce=record_id,
        validate_choice=False,  # whether this person may switch here is the use case's answer
        validators=[required("Tap your name.")],
    )
    pin = PasswordField("Your PIN", validators=[required("Type your PIN."), max_length(6)])

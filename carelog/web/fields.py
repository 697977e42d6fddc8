"""Form helpers shared by every capability: choices, required fields, lengths, dates."""

from __future__ import annotations

from flask import flash
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    SelectChoice,
    SelectMultipleField,
    widgets,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
)

from carelog.errors import FieldError
from carelog.web.boundary import within_date_bounds

REQUIRED = "Please fill this in."


class MultiCheckboxField(SelectMultipleField):
    """Several checkboxes, each a big touch target."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def options(pairs) -> list[SelectChoice]:
    """Choices for a select or radio field from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def required(message: str = REQUIRED):
    return DataRequired(message=message)


def max_length(max_chars: int):
    return Length(max=max_chars, message=f"Keep this under {max_chars} characters.")


def date_field(label: str, required: bool = True, **kwargs) -> DateField:
    """A date, required or optional, within the years carelog accepts."""
    validators = [InputRequired(message="Please give a date.")] if required else [Optional()]
    return DateField(label, validators=[*validators, within_date_bounds], **kwargs)


def show_field_error(form: FlaskForm, error: FieldError) -> None:
    """Show a use case's refusal beside the field it names, or above the form if none fits."""
    field = getattr(form, error.field or "", None)
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "error")

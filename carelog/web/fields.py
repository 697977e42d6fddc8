"""Form helpers shared by every capability: choices, required fields, lengths, dates."""

from __future__ import annotations

from wtforms import (
    DateField,
    SelectChoice,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
)

REQUIRED = "Please fill this in."


def options(pairs) -> list[SelectChoice]:
    """Choices for a select or radio field from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def required(message: str = REQUIRED):
    return DataRequired(message=message)


def max_length(max_chars: int):
    return Length(max=max_chars, message=f"Keep this under {max_chars} characters.")


def date_field(label: str, required: bool = True, **kwargs) -> DateField:
    validators = [InputRequired(message="Please give a date.")] if required else [Optional()]
    return DateField(label, validators=validators, **kwargs)

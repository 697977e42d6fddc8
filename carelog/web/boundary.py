"""The one input boundary: ids, pages, cursors and dates a client sends are checked here.

A value out of range is refused in words (a 400, or a form error beside its field), never passed
on to the database, where it would overflow a column and answer 500. Months are bounded by
carelog.reports.month.Month itself.
"""

from __future__ import annotations

from datetime import date

from flask import abort, request
from werkzeug.routing import IntegerConverter
from wtforms import SelectField
from wtforms.validators import ValidationError

# The largest id a database integer column holds (PostgreSQL's INTEGER is 32-bit).
MAX_ID = 2**31 - 1
MAX_PAGE = 100_000
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)


class DatabaseIntegerConverter(IntegerConverter):
    """Path ids that fit a database integer; anything larger is simply not found."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=MAX_ID, signed=False):  # noqa: A002
        super().__init__(url_map, fixed_digits, min, max, signed)


def record_id(value: object) -> int:
    """An id as a form field or query string sends it; ValueError unless 0 (none) to MAX_ID."""
    number = int(str(value).strip())
    if not 0 <= number <= MAX_ID:
        raise ValueError(f"{number} is out of range")
    return number


def query_number(name: str, default: int | None = None, *, largest: int = MAX_ID) -> int | None:
    """A whole number from the query string, or the default if absent; a 400 in words if it is
    not a whole number from 1 to `largest`."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= largest:
        abort(400, description=f"“{name}” must be a whole number between 1 and {largest}.")
    return int(raw)


def query_page() -> int:
    """The page number of a listing (1 if absent)."""
    return query_number("page", 1, largest=MAX_PAGE) or 1


class RecordSelectField(SelectField):
    """A select of records by id: a value that is no id is a form error in words."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, coerce=record_id, **kwargs)

    def process_formdata(self, valuelist):
        if valuelist:
            try:
                self.data = record_id(valuelist[0])
            except ValueError:
                raise ValueError("Choose one from the list.") from None


def within_date_bounds(_form, field) -> None:
    """A WTForms validator: no date before 1900 or after 2199 reaches the database."""
    if field.data and not EARLIEST_DATE <= field.data <= LATEST_DATE:
        raise ValidationError(
            f"Give a date between {EARLIEST_DATE.year} and {LATEST_DATE.year}; check the year."
        )

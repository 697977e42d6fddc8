"""The report forms: a month, and whom it is for; the month arrives as a Month."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import InputRequired, Optional, ValidationError
from wtforms.widgets import TextInput

from carelog.local_time import local_today
from carelog.reports.month import Month
from carelog.web.boundary import RecordSelectField


class MonthField(StringField):
    """A month as YYYY-MM (the browser's month picker sends that); its data is a Month."""

    widget = TextInput(input_type="month")

    def process_formdata(self, valuelist: list) -> None:
        self.data = None
        raw = valuelist[0] if valuelist else ""
        if raw:
            try:
                self.data = Month.parse(raw)
            except ValueError as problem:
                raise ValueError(str(problem)) from None

    def _value(self) -> str:
        if self.data:
            return str(self.data)
        return self.raw_data[0] if self.raw_data else ""


def month_begun(_form, field) -> None:
    """A report describes what happened: a month that has not begun has nothing to show."""
    today = local_today()
    if field.data and field.data > Month(today.year, today.month):
        raise ValidationError("That month has not begun yet: choose this month or an earlier one.")


class ReportForm(FlaskForm):
    """Which month, and for whom; read from the query string for downloads."""

    class Meta:
        csrf = False  # downloads change nothing; the batch POST below has its own token

    month = MonthField("Month", validators=[InputRequired(message="Choose a month."), month_begun])
    # Unknown ids are answered with 404 by the views, not refused as a bad choice.
    resident_id = RecordSelectField("Resident", default=0, validate_choice=False)
    ward_id = RecordSelectField("Ward", default=0, validate_choice=False)
    trend = BooleanField("Add a last page with the 12 months to this month")


class ExportForm(FlaskForm):
    """The sessions CSV: any month or all of them, and optionally one ward or resident."""

    class Meta:
        csrf = False

    month = MonthField("Month", validators=[Optional()])
    resident_id = RecordSelectField("Resident", default=0, validate_choice=False)
    ward_id = RecordSelectField("Ward", default=0, validate_choice=False)


class BatchForm(FlaskForm):
    """A ward (or the whole home) and a month, to make in the background."""

    month = MonthField("Month", validators=[InputRequired(message="Choose a month."), month_begun])
    ward_id = RecordSelectField("Ward", default=0)

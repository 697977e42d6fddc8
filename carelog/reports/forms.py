"""The report forms: a month, and whom it is for; the month arrives as a Month."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import InputRequired
from wtforms.widgets import TextInput

from carelog.reports.month import Month

MONTH_FORMAT = "Give the month as YYYY-MM."


class MonthField(StringField):
    """A month as YYYY-MM (the browser's month picker sends that); its data is a Month."""

    widget = TextInput(input_type="month")

    def process_formdata(self, valuelist: list) -> None:
        self.data = None
        raw = valuelist[0] if valuelist else ""
        if raw:
            try:
                self.data = Month.parse(raw)
            except ValueError:
                raise ValueError(MONTH_FORMAT) from None

    def _value(self) -> str:
        if self.data:
            return str(self.data)
        return self.raw_data[0] if self.raw_data else ""


class ReportForm(FlaskForm):
    """Which month, and for whom; read from the query string for downloads."""

    class Meta:
        csrf = False  # downloads change nothing; the batch POST below has its own token

    month = MonthField("Month", validators=[InputRequired()])
    # Unknown ids are answered with 404 by the views, not refused as a bad choice.
    resident_id = SelectField("Resident", coerce=int, default=0, validate_choice=False)
    ward_id = SelectField("Ward", coerce=int, default=0, validate_choice=False)


class BatchForm(FlaskForm):
    """A ward (or the whole home) and a month, to make in the background."""

    month = MonthField("Month", validators=[InputRequired()])
    ward_id = SelectField("Ward", coerce=int, default=0)

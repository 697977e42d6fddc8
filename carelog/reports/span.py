"""A run of days ending on a given day ("the last 3 months"), for the charts drawn on screen.

It offers what a chart asks of a Month (days, index, ticks, caption), so the same reportlab
drawings serve the monthly PDF and the resident's page. Pure: no Flask, no SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from carelog.reports.month import MONTH_NAMES

CHOICES = (1, 3, 6, 12)  # months a reader may ask for


def _months_before(day: date, months: int) -> date:
    """The same day `months` earlier, clamped to the end of a shorter month."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _short(day: date) -> str:
    return f"{day.day} {MONTH_NAMES[day.month - 1][:3]}"


@dataclass(frozen=True, slots=True)
class Span:
    """The days from first_day to last_day, both included."""

    first_day: date
    last_day: date

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise ValueError("a span ends on or after the day it begins")

    @classmethod
    def months_to(cls, months: int, last_day: date) -> Span:
        """The `months` months that end on last_day: 3 months to 2 December from 3 September."""
        return cls(_months_before(last_day, months) + timedelta(days=1), last_day)

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def label(self) -> str:
        """ "3 September to 2 December 2026" (the first year only when it differs)."""
        first = (
            _short(self.first_day)
            if self.first_day.year == self.last_day.year
            else (f"{_short(self.first_day)} {self.first_day.year}")
        )
        return f"{first} to {_short(self.last_day)} {self.last_day.year}"

    def index(self, day: date) -> int | None:
        """The day's place on a chart of the span (1 for first_day), None outside it."""
        if not self.first_day <= day <= self.last_day:
            return None
        return (day - self.first_day).days + 1

    def ticks(self) -> list[tuple[int, str]]:
        """Up to about 40 days: every Monday and the first day, as "7 Sep". Longer: the 1st of
        each month, as "Oct" ("Jan 2027" at a new year)."""
        found = []
        day = self.first_day
        while day <= self.last_day:
            if self.days <= 40:
                if day == self.first_day or day.weekday() == 0:
                    found.append((self.index(day), _short(day)))
            elif day.day == 1:
                name = MONTH_NAMES[day.month - 1][:3]
                found.append((self.index(day), f"{name} {day.year}" if day.month == 1 else name))
            day += timedelta(days=1)
        return [(i, text) for i, text in found if i is not None]

    def caption(self, x_title: str) -> str:
        """The day axis's title: the span itself (the chart's title says what each day holds)."""
        return self.label

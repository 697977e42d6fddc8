"""A calendar month in the home's zone: one type from the report form to the PDF.

It imports neither Flask nor SQLAlchemy, so the PDF renderer can take it as it is; the UTC
bounds of a month come from carelog.local_time.month_bounds.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


FIRST_YEAR, LAST_YEAR = 1900, 2199  # as carelog.web.boundary bounds dates


@dataclass(frozen=True, slots=True, order=True)
class Month:
    """A calendar month in the home's time zone."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"month {self.month} is not 1-12")

    @classmethod
    def parse(cls, text: str | None) -> Month:
        """Read YYYY-MM, raising ValueError with a plain message."""
        try:
            if not re.fullmatch(r"\d{4}-\d{2}", text or ""):
                raise ValueError(text)
            year, month = (int(part) for part in (text or "").split("-"))
            date(year, month, 1)
        except (ValueError, TypeError):
            raise ValueError("Give the month as YYYY-MM, for example 2026-10.") from None
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise ValueError(f"Give a month between {FIRST_YEAR} and {LAST_YEAR}.")
        return cls(year, month)

    @property
    def first_day(self) -> date:
        """The 1st of the month."""
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        """The last day of the month."""
        return date(self.year, self.month, self.days)

    @property
    def days(self) -> int:
        """The number of days in the month."""
        return calendar.monthrange(self.year, self.month)[1]

    @property
    def label(self) -> str:
        """The month as "June 2025"."""
        return f"{MONTH_NAMES[self.month - 1]} {self.year}"

    def index(self, day: date) -> int | None:
        """The day's place on a chart of the month (1 for the 1st), None outside the month."""
        return day.day if (day.year, day.month) == (self.year, self.month) else None

    def ticks(self) -> list[tuple[int, str]]:
        """Every day of the month, labelled with its number."""
        return [(day, str(day)) for day in range(1, self.days + 1)]

    def caption(self, x_title: str) -> str:
        """The day axis's title: "Day of October 2026"."""
        return f"{x_title} {self.label}"

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

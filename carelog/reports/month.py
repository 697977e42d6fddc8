"""A calendar month in the home's zone, from the form to the PDF."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from carelog.local_time import local_day_bounds


@dataclass(frozen=True)
class Month:
    """A calendar month in the home's zone, with its UTC bounds."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """Read YYYY-MM, raising ValueError with a plain message."""
        try:
            if not re.fullmatch(r"\d{4}-\d{2}", text or ""):
                raise ValueError(text)
            year, month = (int(part) for part in text.split("-"))
            date(year, month, 1)
        except (ValueError, TypeError):
            raise ValueError("give the month as YYYY-MM, for example 2026-10") from None
        return cls(year, month)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        following = (self.first_day + timedelta(days=32)).replace(day=1)
        return following - timedelta(days=1)

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """The month's start and end as UTC instants (DST-aware)."""
        start, _ = local_day_bounds(self.first_day)
        _, end = local_day_bounds(self.last_day)
        return start, end

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

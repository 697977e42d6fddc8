"""Trends across the last 12 months, for a resident or a ward: sessions given against planned,
the median change in relaxation and mood and the sessions improved (the resident's own ratings
and an observer's apart), and the times of day massages were given.

Pure: months, plain rows and planned counts in, figures out; the queries are in trend_data.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from carelog.reports.document import Rating
from carelog.reports.month import Month
from carelog.reports.stats import ByRater, paired_by_rater

MONTHS = 12
TIMES_OF_DAY = (
    ("Night", "00:00 to 06:00", 0),
    ("Morning", "06:00 to 12:00", 6),
    ("Afternoon", "12:00 to 18:00", 12),
    ("Evening", "18:00 to 24:00", 18),
)  # (name, hours, first hour)

RatedPair = tuple[Rating, Rating]


@dataclass(frozen=True, slots=True)
class GivenMassage:
    """One massage given: when (local time) and its relaxation and mood before and after."""

    start: datetime
    relaxation: RatedPair
    mood: RatedPair


@dataclass(frozen=True, slots=True)
class MonthTrend:
    month: Month
    figures_to: date | None  # the month still running: its figures stop on this day
    planned: int
    given: int
    relaxation: ByRater
    mood: ByRater
    times_of_day: tuple[int, ...]  # massages given in each of TIMES_OF_DAY

    @property
    def given_share(self) -> int | None:
        """Given as a whole percentage of planned, None when nothing was planned."""
        return round(100 * self.given / self.planned) if self.planned else None


def last_months(today: date, count: int = MONTHS) -> list[Month]:
    """The `count` months up to and including today's, oldest first."""
    index = today.year * 12 + today.month - 1
    return [_month_of(i) for i in range(index - count + 1, index + 1)]


def _month_of(index: int) -> Month:
    """The month `index` months after January of year 0."""
    year, month = divmod(index, 12)
    return Month(year, month + 1)


def time_of_day(moment: datetime) -> int:
    """Which of TIMES_OF_DAY a local time falls in."""
    return max(i for i, (_, _, first) in enumerate(TIMES_OF_DAY) if moment.hour >= first)


def month_trends(
    massages: Iterable[GivenMassage],
    months: Sequence[Month],
    planned: dict[Month, int],
    today: date,
) -> list[MonthTrend]:
    """A MonthTrend for each month, from the massages given and the sessions planned."""
    by_month: dict[Month, list[GivenMassage]] = {month: [] for month in months}
    for massage in massages:
        month = Month(massage.start.year, massage.start.month)
        if month in by_month:
            by_month[month].append(massage)
    trends = []
    for month in months:
        given = by_month[month]
        times = [0] * len(TIMES_OF_DAY)
        for massage in given:
            times[time_of_day(massage.start)] += 1
        trends.append(
            MonthTrend(
                month,
                today if month.first_day <= today <= month.last_day else None,
                planned.get(month, 0),
                len(given),
                paired_by_rater(m.relaxation for m in given),
                paired_by_rater(m.mood for m in given),
                tuple(times),
            )
        )
    return trends

"""The last 12 months of a resident or a ward, from the database: the queries behind trends.py.

A fixed number of queries whatever the number of residents: the residents with their consent
decisions, their record's versions (for planning), and the ratings of the massages given.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import or_, select

from carelog.dashboard.delivery import OVERVIEW_LOADS
from carelog.extensions import db
from carelog.local_time import local, local_day_bounds
from carelog.reports.given_ratings import given_ratings, rated_pairs
from carelog.reports.month import Month
from carelog.reports.planning import plan_runs, planning_of
from carelog.reports.trends import GivenMassage, MonthTrend, last_months, month_trends
from carelog.residents import history
from carelog.residents.models import Resident


def _massages(rows) -> list[GivenMassage]:
    massages = []
    for row in rows:
        relaxation, mood = rated_pairs(row)
        massages.append(GivenMassage(local(row[0]).replace(tzinfo=None), relaxation, mood))
    return massages


def _planned(people: list[Resident], months: list[Month], last: date) -> Counter[Month]:
    """Sessions planned in each month to `last`, summed over the residents, each month rounded
    per resident as their monthly report rounds it."""
    versions = history.versions_by_resident([person.id for person in people])
    planned: Counter[Month] = Counter()
    for person in people:
        runs = plan_runs(person, months[0].first_day, last, versions[person.id])
        for month in months:
            planned[month] += planning_of(runs, month.first_day, min(month.last_day, last)).planned
    return planned


def _bounds(months: list[Month], last: date):
    start, _ = local_day_bounds(months[0].first_day)
    _, end = local_day_bounds(last)
    return start, end


def resident_trend(resident: Resident, today: date, month: Month | None = None) -> list[MonthTrend]:
    """The resident's 12 months to `month` (today's if None), oldest first; a month still
    running counts to today."""
    last = today if month is None else min(month.last_day, today)
    months = last_months(last)
    rows = given_ratings(*_bounds(months, last), resident_id=resident.id).get(resident.id, ())
    return month_trends(_massages(rows), months, _planned([resident], months, last), today)


def ward_residents(ward_id: int, first: date, today: date) -> list[Resident]:
    """Residents who count under the ward (the ward they are on today, or left from) and were in
    the home at some time from `first` to today."""
    return list(
        db.session.scalars(
            select(Resident)
            .options(*OVERVIEW_LOADS)
            .where(
                Resident.ward_id == ward_id,
                Resident.admitted_on <= today,
                or_(Resident.departed_on.is_(None), Resident.departed_on >= first),
            )
        )
    )


def ward_trend(ward_id: int, today: date) -> tuple[int, list[MonthTrend]]:
    """How many residents count under the ward, and its last 12 months, oldest first."""
    months = last_months(today)
    people = ward_residents(ward_id, months[0].first_day, today)
    by_resident = given_ratings(*_bounds(months, today), ward_id=ward_id)
    rows = [row for person in people for row in by_resident.get(person.id, ())]
    return len(people), month_trends(
        _massages(rows), months, _planned(people, months, today), today
    )

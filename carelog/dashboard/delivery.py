"""Care planned against care given, for each ward and the whole home, this week and this month.

Planned is the report's rule (reports/rows.planning_between): the days each resident was in the
home with valid consent and sessions not deferred, at the weekly target in force that day, up
to and including today. A resident counts under the ward they are on today.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import selectinload

from carelog.accounts.models import Ward
from carelog.care.models import CareSessionVersion
from carelog.care.queries import summed_per_resident
from carelog.care.vocabulary import GIVEN, NOT_DONE_REASON_WORDS, Outcome
from carelog.extensions import db
from carelog.local_time import local_day_bounds
from carelog.reports.rows import planning_between
from carelog.reports.summary import AccountedFor
from carelog.residents import history
from carelog.residents.models import Resident

WEEK, MONTH = "week", "month"
HOME = 0  # the key of the whole home's figures, beside each ward's id


@dataclass(frozen=True)
class Period:
    """A run of days up to today: this week (from Monday) or this month (from the 1st)."""

    key: str
    first: date
    last: date

    @property
    def words(self) -> str:
        return "This week" if self.key == WEEK else "This month"


def periods(today: date) -> tuple[Period, Period]:
    return (
        Period(WEEK, today - timedelta(days=today.weekday()), today),
        Period(MONTH, today.replace(day=1), today),
    )


@dataclass(frozen=True, slots=True)
class Delivery(AccountedFor):
    """Planned sessions and what became of them, for a ward or the home over a period."""

    planned: int = 0
    given: int = 0
    declined: int = 0
    not_done: int = 0
    not_done_reasons: tuple[tuple[str, int], ...] = ()

    def __add__(self, other: Delivery) -> Delivery:
        reasons = Counter(dict(self.not_done_reasons)) + Counter(dict(other.not_done_reasons))
        return Delivery(
            self.planned + other.planned,
            self.given + other.given,
            self.declined + other.declined,
            self.not_done + other.not_done,
            _in_vocabulary_order(reasons),
        )

    @property
    def not_done_words(self) -> list[tuple[str, int]]:
        """Not done by reason, in words."""
        return [(NOT_DONE_REASON_WORDS.get(code, code), n) for code, n in self.not_done_reasons]


def _in_vocabulary_order(reasons: Counter) -> tuple[tuple[str, int], ...]:
    order = list(NOT_DONE_REASON_WORDS)
    known = [(code, reasons[code]) for code in order if reasons.get(code)]
    other = [(code, n) for code, n in sorted(reasons.items()) if code not in order and n]
    return tuple(known + other)


@dataclass(frozen=True)
class WardDelivery:
    """One line of the table: a ward (or the home) and its figures for each period."""

    ward_id: int
    name: str
    by_period: dict[str, Delivery]


def delivery(today: date) -> list[WardDelivery]:
    """Each ward's figures and then the home's, for this week and this month, in four queries
    whatever the number of residents."""
    week, month = periods(today)
    people = db.session.scalars(
        select(Resident)
        .options(selectinload(Resident.consents))
        .where(
            Resident.admitted_on <= today,
            or_(Resident.departed_on.is_(None), Resident.departed_on >= month.first),
        )
    ).all()
    versions = history.versions_by_resident([p.id for p in people])
    entries = _entries(month, week.first)
    totals: dict[int, dict[str, Delivery]] = defaultdict(
        lambda: {WEEK: Delivery(), MONTH: Delivery()}
    )
    for person in people:
        for period in (week, month):
            planned = planning_between(person, period.first, period.last, versions[person.id])
            counted = entries.get((person.id, period.key), Delivery())
            one = Delivery(
                planned.planned,
                counted.given,
                counted.declined,
                counted.not_done,
                counted.not_done_reasons,
            )
            totals[person.ward_id][period.key] += one
            totals[HOME][period.key] += one
    wards = db.session.execute(select(Ward.id, Ward.name).order_by(Ward.name)).all()
    lines = [WardDelivery(w.id, w.name, totals[w.id]) for w in wards]
    return [*lines, WardDelivery(HOME, "Whole home", totals[HOME])]


def _entries(month: Period, week_first: date) -> dict[tuple[int, str], Delivery]:
    """Per resident and period: sessions given, declined and not done (by reason), summed by
    the database from current versions, voided ones left out."""
    week_start, _ = local_day_bounds(week_first)
    month_start, _ = local_day_bounds(month.first)
    _, end = local_day_bounds(month.last)
    version = CareSessionVersion
    reason = func.coalesce(version.not_done_reason, "other")

    def counted(condition, period: str):
        since = week_start if period == WEEK else month_start
        return func.sum(case((and_(condition, version.occurred_at >= since), 1), else_=0))

    kinds = {
        "given": version.outcome.in_([o.value for o in GIVEN]),
        "declined": version.outcome == Outcome.DECLINED.value,
        **{
            f"not_done_{code}": and_(version.outcome == Outcome.NOT_DONE.value, reason == code)
            for code in NOT_DONE_REASON_WORDS
        },
    }
    columns = [
        counted(condition, key).label(f"{key}_{kind}")
        for key in (WEEK, MONTH)
        for kind, condition in kinds.items()
    ]
    start = min(week_start, month_start)  # a week may begin in the month before
    found = {}
    summed = summed_per_resident(None, start, end, *columns, dialect=_dialect())
    for row in db.session.execute(summed):
        for key in (WEEK, MONTH):
            reasons = Counter(
                {code: getattr(row, f"{key}_not_done_{code}") for code in NOT_DONE_REASON_WORDS}
            )
            found[(row.resident_id, key)] = Delivery(
                0,
                getattr(row, f"{key}_given"),
                getattr(row, f"{key}_declined"),
                sum(reasons.values()),
                _in_vocabulary_order(reasons),
            )
    return found


def _dialect() -> str:
    return db.session.get_bind().dialect.name

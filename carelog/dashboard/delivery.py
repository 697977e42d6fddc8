"""Care planned against care given, for each ward and the whole home, this week and this month.

Planned is the report's rule (reports/planning.py): the days each resident was in the home with
valid consent and sessions not deferred, at the weekly target in force that day, spread over the
days their plan names. The week and the month run to the end of yesterday, so that nothing
planned for today counts as missed while today lasts; today's entries so far are counted on their
own. A resident counts under the ward they are on today.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import joinedload, load_only, selectinload

from carelog.accounts.models import Ward
from carelog.care.models import CareSession
from carelog.care.queries import current_dialect, summed_standing
from carelog.care.vocabulary import GIVEN, NOT_DONE_REASON_WORDS, Outcome
from carelog.extensions import db
from carelog.local_time import local_day_bounds
from carelog.reports.planning import plan_runs, planning_of
from carelog.reports.summary import AccountedFor
from carelog.residents import history
from carelog.residents.models import Consent, Resident

WEEK, MONTH, TODAY = "week", "month", "today"
PERIODS = (WEEK, MONTH, TODAY)
HOME = 0  # the key of the whole home's figures, beside each ward's id


@dataclass(frozen=True)
class Period:
    """This week (from Monday) or this month (from the 1st) to the end of yesterday, or today
    so far. A week or month with no whole day yet (a Monday, the 1st) is empty."""

    key: str
    first: date
    last: date

    @property
    def words(self) -> str:
        return {WEEK: "This week", MONTH: "This month", TODAY: "Today so far"}[self.key]

    @property
    def empty(self) -> bool:
        return self.last < self.first


def periods(today: date) -> tuple[Period, Period, Period]:
    yesterday = today - timedelta(days=1)
    return (
        Period(WEEK, today - timedelta(days=today.weekday()), yesterday),
        Period(MONTH, today.replace(day=1), yesterday),
        Period(TODAY, today, today),
    )


@dataclass(frozen=True, slots=True)
class Delivery(AccountedFor):
    """Planned sessions and what became of them, for a ward or the home over a period."""

    planned: int = 0
    given: int = 0
    declined: int = 0
    not_done: int = 0
    not_done_reasons: tuple[tuple[str, int], ...] = ()

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


# What the overview reads of each resident, and of their consent decisions: loading every column
# of 174 residents cost a sixth of the page (reasons_to_stop also reads the deferral's reason).
OVERVIEW_LOADS = (
    load_only(
        Resident.id,
        Resident.ward_id,
        Resident.given_name,
        Resident.family_name,
        Resident.preferred_name,
        Resident.room,
        Resident.admitted_on,
        Resident.departed_on,
        Resident.sessions_per_week,
        Resident.defer_sessions,
        Resident.defer_reason,
        Resident.defer_until,
        Resident.plan_days,
        raiseload=True,  # planning reads these; anything else would be a query per resident
    ),
    selectinload(Resident.consents).load_only(
        Consent.resident_id, Consent.consent_given, Consent.decided_on, Consent.review_on
    ),
    joinedload(Resident.ward),  # many-to-one: selectinload compares rows, slowly
)


def residents_this_month(today: date) -> list[Resident]:
    """Everyone in the home at some time this month (or this week, if it began last month), with
    their consent decisions and ward: the overview's one load of residents."""
    first = min(period.first for period in periods(today))
    return list(
        db.session.scalars(
            select(Resident)
            .options(*OVERVIEW_LOADS)
            .where(
                Resident.admitted_on <= today,
                or_(Resident.departed_on.is_(None), Resident.departed_on >= first),
            )
            .order_by(Resident.family_name, Resident.given_name)
        )
    )


def delivery(today: date, people: list[Resident]) -> list[WardDelivery]:
    """Each ward's figures and then the home's, for this week, this month and today, in a fixed
    number of queries whatever the number of residents."""
    chosen = periods(today)
    versions = history.versions_by_resident([p.id for p in people])
    entries = _entries(chosen)
    first = min(period.first for period in chosen)
    sums: dict[tuple[int, str], list] = defaultdict(lambda: [0, 0, 0, 0, Counter()])
    for person in people:
        runs = plan_runs(person, first, today, versions[person.id])
        for period in chosen:
            if period.key != TODAY:
                planned = planning_of(runs, period.first, period.last).planned
                sums[(person.ward_id, period.key)][0] += planned
                sums[(HOME, period.key)][0] += planned
    for (ward_id, key), counted in entries.items():
        for ward in (ward_id, HOME):
            total = sums[(ward, key)]
            total[1] += counted.given
            total[2] += counted.declined
            total[3] += counted.not_done
            total[4].update(dict(counted.not_done_reasons))

    def figures(ward: int) -> dict[str, Delivery]:
        found = {}
        for key in PERIODS:
            planned, given, declined, not_done, reasons = sums[(ward, key)]
            found[key] = Delivery(planned, given, declined, not_done, _in_vocabulary_order(reasons))
        return found

    wards = db.session.execute(select(Ward.id, Ward.name).order_by(Ward.name)).all()
    lines = [WardDelivery(w.id, w.name, figures(w.id)) for w in wards]
    return [*lines, WardDelivery(HOME, "Whole home", figures(HOME))]


def _entries(chosen: tuple[Period, ...]) -> dict[tuple[int, str], Delivery]:
    """Per ward (the ward each resident is on today) and period: sessions given, declined and
    not done (by reason), summed by the database from each session's current standing, voided
    ones left out."""
    bounds = {
        period.key: (local_day_bounds(period.first)[0], local_day_bounds(period.last)[1])
        for period in chosen
    }
    standing = CareSession
    reason = func.coalesce(standing.current_not_done_reason, "other")

    def counted(condition, period: str):
        since, until = bounds[period]
        when = standing.current_occurred_at
        within = and_(condition, when >= since, when < until)
        return func.sum(case((within, 1), else_=0))

    outcome = standing.current_outcome
    kinds = {
        "given": outcome.in_([o.value for o in GIVEN]),
        "declined": outcome == Outcome.DECLINED.value,
        **{
            f"not_done_{code}": and_(outcome == Outcome.NOT_DONE.value, reason == code)
            for code in NOT_DONE_REASON_WORDS
        },
    }
    columns = [
        counted(condition, key).label(f"{key}_{kind}")
        for key in PERIODS
        for kind, condition in kinds.items()
    ]
    start = min(since for since, _ in bounds.values())  # a week may begin in the month before
    end = max(until for _, until in bounds.values())
    found = {}
    summed = summed_standing(None, start, end, *columns, dialect=current_dialect(), by_ward=True)
    for row in db.session.execute(summed):
        for key in PERIODS:
            reasons = Counter(
                {code: getattr(row, f"{key}_not_done_{code}") for code in NOT_DONE_REASON_WORDS}
            )
            found[(row.ward_id, key)] = Delivery(
                0,
                getattr(row, f"{key}_given"),
                getattr(row, f"{key}_declined"),
                sum(reasons.values()),
                _in_vocabulary_order(reasons),
            )
    return found

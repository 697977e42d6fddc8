"""Sessions planned for a resident: the days they were in the home with valid consent and
sessions not deferred, at the weekly target in force that day. One rule for the monthly report
and the care manager's overview."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from carelog.local_time import local_date, local_day_bounds
from carelog.reports.month import Month
from carelog.residents.history import in_force
from carelog.residents.models import Resident, deferral_applies


@dataclass(frozen=True)
class Planning:
    """Sessions planned for the month, and the days left out of the plan and why."""

    planned: int
    excluded: tuple[tuple[str, int], ...]


NO_CONSENT = "no valid consent"
DEFERRED = "sessions deferred"


def planning(
    resident: Resident,
    month: Month,
    versions,
    until: date | None = None,
) -> Planning:
    """Plan only the days the resident was in the home, with valid consent and sessions not
    deferred, at the weekly target in force that day."""
    return planning_between(resident, month.first_day, until or month.last_day, versions)


def planning_between(resident: Resident, first: date, last: date, versions) -> Planning:
    """`planning` for any run of days (a week so far, on the manager's page)."""
    return planning_of(plan_runs(resident, first, last, versions), first, last)


@dataclass(frozen=True)
class PlanRun:
    """Days in a row that planning counts the same: sessions planned on each, or why none."""

    first: date
    days: int
    per_day: float
    left_out: str | None  # NO_CONSENT or DEFERRED when nothing is planned on these days


def plan_runs(resident: Resident, first: date, last: date, versions) -> list[PlanRun]:
    """The days from `first` to `last` that the resident was in the home, in runs of equal days.

    The rule is applied day by day, but a day is worked out only where something it depends on
    may change (a version of the record, a consent decision or its review date, the end of a
    deferral): the days up to the next such change count the same."""
    first = max(first, resident.admitted_on)
    last = min(last, resident.departed_on or last)
    changes = sorted(d for d in _change_days(resident, versions) if first < d <= last)
    runs = []
    for start, end in zip([first, *changes], [*changes, last + timedelta(days=1)], strict=True):
        days = (end - start).days
        if days <= 0:
            continue
        facts = in_force(versions, local_day_bounds(start)[1]) or {
            "defer_sessions": resident.defer_sessions,
            "defer_until": resident.defer_until,
            "sessions_per_week": resident.sessions_per_week,
        }
        consent = resident.consent_on(start)
        if consent is None or not consent.is_valid_on(start):
            runs.append(PlanRun(start, days, 0.0, NO_CONSENT))
        elif deferral_applies(facts.get("defer_sessions"), facts.get("defer_until"), start):
            runs.append(PlanRun(start, days, 0.0, DEFERRED))
        else:
            runs.append(PlanRun(start, days, facts["sessions_per_week"] / 7, None))
    return runs


def planning_of(runs: list[PlanRun], first: date, last: date) -> Planning:
    """Planning for the days from `first` to `last`, from runs that may reach beyond them."""
    planned, excluded = 0.0, {NO_CONSENT: 0, DEFERRED: 0}
    for run in runs:
        start = max(run.first, first)
        end = min(run.first + timedelta(days=run.days), last + timedelta(days=1))
        days = (end - start).days
        if days <= 0:
            continue
        if run.left_out:
            excluded[run.left_out] += days
        else:
            planned += days * run.per_day
    return Planning(round(planned), tuple((k, v) for k, v in excluded.items() if v))


def _change_days(resident: Resident, versions) -> set[date]:
    """Days on which planning's answer may differ from the day before: more than enough of them
    (an extra one only splits a run of equal days), never too few."""
    days = set()
    for version in versions:
        recorded = local_date(version.recorded_at)
        days |= {recorded - timedelta(days=1), recorded, recorded + timedelta(days=1)}
        until = version.values.get("defer_until")
        if until:
            until = date.fromisoformat(until) if isinstance(until, str) else until
            days.add(until + timedelta(days=1))
    for consent in resident.consents:
        days |= {consent.decided_on, consent.review_on + timedelta(days=1)}
    if resident.defer_until:
        days.add(resident.defer_until + timedelta(days=1))
    return days

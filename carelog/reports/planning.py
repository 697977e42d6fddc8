"""Sessions planned for a resident: the days they were in the home with valid consent and
sessions not deferred, at the weekly target in force that day, spread over the days of the week
their person-centred plan names (over all seven when it names none). One rule for the monthly
report, the care manager's overview and the twelve months."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from threading import Lock

from flask import current_app

from carelog.local_time import local_date, local_day_bounds
from carelog.reports.month import Month
from carelog.residents.history import in_force
from carelog.residents.models import Resident, deferral_applies
from carelog.residents.plan import plan_weekdays


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
    """Days in a row that planning counts the same way: the weekly target and the plan's days
    in force on them, or why nothing is planned."""

    first: date
    days: int
    weekly: int
    plan_days: frozenset[int]  # date.weekday() numbers; empty: every day alike
    left_out: str | None  # NO_CONSENT or DEFERRED when nothing is planned on these days

    def planned(self, start: date, end: date) -> float:
        """Sessions planned from `start` up to (not including) `end`, both within the run: the
        weekly target over seven days a week, or over the plan's days."""
        if self.left_out:
            return 0.0
        days = (end - start).days
        if not self.plan_days:
            return days * self.weekly / 7
        weeks, rest = divmod(days, 7)
        on_plan = weeks * len(self.plan_days) + sum(
            1 for i in range(rest) if (start + timedelta(days=i)).weekday() in self.plan_days
        )
        return on_plan * self.weekly / len(self.plan_days)


def plan_runs(resident: Resident, first: date, last: date, versions) -> list[PlanRun]:
    """`work_out_runs`, remembered by each worker under everything the answer is made of: the
    days asked for, the record's current values, each version's time and the facts planning
    reads from it, and each consent decision. A changed value is a different key, so nothing can
    be stale, even when a restored backup gives an id to a different row."""
    key = _runs_key(resident, first, last, versions)
    runs = _remembered_runs.get(key)
    if runs is None:
        runs = tuple(work_out_runs(resident, first, last, versions))
        with _memo_lock:
            if len(_remembered_runs) >= RUNS_MEMO_SIZE:
                _remembered_runs.clear()
            _remembered_runs[key] = runs
    return list(runs)


RUNS_MEMO_SIZE = 8192  # residents times the few periods a page asks for
_remembered_runs: dict[tuple, tuple[PlanRun, ...]] = {}
_memo_lock = Lock()
PLANNING_FACTS = ("sessions_per_week", "defer_sessions", "defer_until", "plan_days")


def _runs_key(resident: Resident, first: date, last: date, versions) -> tuple:
    return (
        current_app.config["CARELOG_TIMEZONE"],
        first,
        last,
        resident.admitted_on,
        resident.departed_on,
        *(getattr(resident, fact) for fact in PLANNING_FACTS),
        tuple((v.recorded_at, *(v.values.get(fact) for fact in PLANNING_FACTS)) for v in versions),
        tuple((c.decided_on, c.review_on, c.consent_given) for c in resident.consents),
    )


def work_out_runs(resident: Resident, first: date, last: date, versions) -> list[PlanRun]:
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
            "plan_days": resident.plan_days,
        }
        consent = resident.consent_on(start)
        weekly, on_days = facts["sessions_per_week"], plan_weekdays(facts.get("plan_days"))
        if consent is None or not consent.is_valid_on(start):
            left_out: str | None = NO_CONSENT
        elif deferral_applies(facts.get("defer_sessions"), facts.get("defer_until"), start):
            left_out = DEFERRED
        else:
            left_out = None
        runs.append(PlanRun(start, days, weekly, on_days, left_out))
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
            planned += run.planned(start, end)
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

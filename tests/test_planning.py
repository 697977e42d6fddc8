"""Planning works a day out only where something may change; it must agree, day for day, with
the rule applied to every single day, whatever the record's history."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

from carelog.local_time import local_day_bounds
from carelog.reports.planning import (
    DEFERRED,
    NO_CONSENT,
    Planning,
    plan_runs,
    planning_between,
    planning_of,
    work_out_runs,
)
from carelog.residents.history import in_force
from carelog.residents.models import Consent, Resident, ResidentVersion, deferral_applies
from carelog.residents.plan import WEEKDAYS

FIRST = date(2026, 3, 1)  # the clocks change in this month and the next, in Europe/London
app = Flask(__name__)
app.config["CARELOG_TIMEZONE"] = "Europe/London"


def every_day(resident: Resident, first: date, last: date, versions) -> Planning:
    """The rule in words, applied to each day in turn (planning's first form)."""
    first = max(first, resident.admitted_on)
    last = min(last, resident.departed_on or last)
    planned, excluded = 0.0, {NO_CONSENT: 0, DEFERRED: 0}
    day = first
    while day <= last:
        facts = in_force(versions, local_day_bounds(day)[1]) or {
            "defer_sessions": resident.defer_sessions,
            "defer_until": resident.defer_until,
            "sessions_per_week": resident.sessions_per_week,
            "plan_days": resident.plan_days,
        }
        consent = resident.consent_on(day)
        if consent is None or not consent.is_valid_on(day):
            excluded[NO_CONSENT] += 1
        elif deferral_applies(facts.get("defer_sessions"), facts.get("defer_until"), day):
            excluded[DEFERRED] += 1
        else:
            named = [WEEKDAYS.index(code) for code in (facts.get("plan_days") or "").split(",")
                     if code]  # fmt: skip
            if not named:
                planned += facts["sessions_per_week"] / 7
            elif day.weekday() in named:
                planned += facts["sessions_per_week"] / len(named)
        day += timedelta(days=1)
    return Planning(round(planned), tuple((k, v) for k, v in excluded.items() if v))


days = st.integers(min_value=-20, max_value=80).map(lambda n: FIRST + timedelta(days=n))
moments = st.builds(
    lambda day, minutes: datetime.combine(day, time(0, 0), tzinfo=UTC) + timedelta(minutes=minutes),
    days,
    st.sampled_from([0, 1, 59, 60, 61, 600, 1380, 1439]),  # midnights in both zones included
)
facts = st.fixed_dictionaries(
    {
        "sessions_per_week": st.integers(min_value=0, max_value=14),
        "defer_sessions": st.booleans(),
        "defer_until": st.one_of(st.none(), days.map(date.isoformat)),
        "plan_days": st.one_of(
            st.none(),
            st.sets(st.sampled_from(WEEKDAYS), min_size=1).map(
                lambda chosen: ",".join(d for d in WEEKDAYS if d in chosen)
            ),
        ),
    }
)


@st.composite
def histories(draw):
    admitted = draw(days)
    departed = draw(st.one_of(st.none(), days.filter(lambda d: d >= admitted)))
    current = draw(facts)
    resident = Resident(
        id=1,
        admitted_on=admitted,
        departed_on=departed,
        sessions_per_week=current["sessions_per_week"],
        defer_sessions=current["defer_sessions"],
        defer_until=date.fromisoformat(current["defer_until"]) if current["defer_until"] else None,
        plan_days=current["plan_days"],
    )
    recorded = sorted(draw(st.lists(moments, max_size=5)))
    versions = [
        ResidentVersion(resident_id=1, version_no=n + 1, recorded_at=at, values=draw(facts))
        for n, at in enumerate(recorded)
    ]
    decisions = []
    for number in range(draw(st.integers(min_value=0, max_value=4))):
        decided = draw(days)
        decisions.append(
            Consent(
                id=number + 1,
                consent_given=draw(st.booleans()),
                decided_on=decided,
                review_on=decided + timedelta(days=draw(st.integers(min_value=0, max_value=90))),
            )
        )
    # the relationship's order: newest decision first, then the one recorded last
    resident.consents = sorted(decisions, key=lambda c: (c.decided_on, c.id), reverse=True)
    first = draw(days)
    last = first + timedelta(days=draw(st.integers(min_value=0, max_value=45)))
    return resident, versions, first, last


@settings(max_examples=300, deadline=None)
@given(histories())
def test_runs_of_equal_days_agree_with_every_day(history):
    resident, versions, first, last = history
    with app.app_context():
        assert planning_between(resident, first, last, versions) == every_day(
            resident, first, last, versions
        )


@settings(max_examples=200, deadline=None)
@given(histories(), st.integers(min_value=0, max_value=20), st.integers(min_value=0, max_value=20))
def test_runs_worked_out_once_serve_any_days_within(history, cut_first, cut_last):
    """The overview works out a resident's runs once, from the earlier of the week's and the
    month's first day, and counts both periods from them."""
    resident, versions, first, last = history
    inner_first = min(first + timedelta(days=cut_first), last)
    inner_last = max(last - timedelta(days=cut_last), inner_first)
    with app.app_context():
        runs = plan_runs(resident, first, last, versions)
        assert planning_of(runs, inner_first, inner_last) == every_day(
            resident, inner_first, inner_last, versions
        )


@settings(max_examples=100, deadline=None)
@given(histories())
def test_remembered_runs_are_the_runs_worked_out(history):
    """Runs are remembered under what they are made of: the second answer is the first, and
    both are the rule's; a decision added afterwards is a different key, so it is worked out
    again. Ids play no part (every history here reuses the same ones, as a restored backup
    may): only content does."""
    resident, versions, first, last = history
    for number, version in enumerate(versions, start=1):
        version.id = number
    with app.app_context():
        expected = work_out_runs(resident, first, last, versions)
        assert plan_runs(resident, first, last, versions) == expected
        assert plan_runs(resident, first, last, versions) == expected
        refusal = Consent(id=99, consent_given=False, decided_on=first, review_on=last)
        resident.consents = [refusal, *resident.consents]
        assert plan_runs(resident, first, last, versions) == work_out_runs(
            resident, first, last, versions
        )

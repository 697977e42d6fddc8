"""The ward board: who has had a session today and this week, and who is due, in a few queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import selectinload

from carelog.care.models import CareSession, CareSessionVersion
from carelog.care.queries import in_ward_between, on_the_board, only_current
from carelog.care.rules import consent_standing, reasons_to_stop
from carelog.care.vocabulary import GIVEN, Outcome
from carelog.extensions import db
from carelog.local_time import local_date, local_day_bounds
from carelog.residents.models import Consent, Resident

LOOKBACK_DAYS = 14  # enough for the gap rule (at most 7 days) and "last massage"


TODAY_WORDS = {
    "given": "Given today",
    "declined": "Declined today",
    "not_done": "Not done today",
    "not_yet": "Not yet today",
}
# How a resident stands on the board today, in the order the board lists them: due first.
DUE_FIRST = ("overdue", "due")
STATE_WORDS = {
    "do_not_massage": "Do not massage",
    "review_overdue": "Consent review overdue",
    "deferred": "Deferred",
    **{state: words for state, words in TODAY_WORDS.items() if state != "not_yet"},
    "overdue": "Overdue",
    "due": "Due",
    "met": "Done for this week",
}


@dataclass(frozen=True)
class BoardRow:
    """One resident's line on the board."""

    resident: Resident
    consent: Consent | None
    today: str  # given, declined, not_done or not_yet
    week_given: int
    target: int
    week_state: str  # met, due or overdue
    last_given: date | None
    stop: str = ""  # why no massage may be given today, in words; empty when one may
    consent_standing: str = "valid"  # valid, refuses, none or review_overdue

    @property
    def state(self) -> str:
        """The one state that matters most today: a stop, then today's record, then the week.
        States that forbid a massage never count as due or overdue."""
        if self.consent_standing == "review_overdue":
            return "review_overdue"
        if self.consent_standing != "valid":
            return "do_not_massage"
        if self.stop:
            return "deferred"
        if self.today != "not_yet":
            return self.today
        return self.week_state

    @property
    def state_words(self) -> str:
        return STATE_WORDS[self.state]

    @property
    def due_first(self) -> int:
        """Sort key: overdue, then due, then everyone else."""
        return DUE_FIRST.index(self.state) if self.state in DUE_FIRST else len(DUE_FIRST)


def week_state(given: int, target: int, today: date, days_since_last: int | None = None) -> str:
    """met when the weekly target is reached. Otherwise overdue when behind the week's pace (the
    target times the days already past this week, over seven, rounded down), when the days left
    cannot hold what is missing, or when the last massage was longer ago than the target allows
    (seven days over the target, rounded up); due if none of these."""
    still_needed = max(target - given, 0)
    if still_needed == 0:
        return "met"
    days_past = today.weekday()  # before today; weeks start on Monday
    behind_pace = given < target * days_past // 7
    cannot_catch_up = still_needed > 7 - today.weekday()
    gap_too_long = days_since_last is not None and days_since_last > -(-7 // target)
    return "overdue" if behind_pace or cannot_catch_up or gap_too_long else "due"


def today_state(outcomes_today: list[str]) -> str:
    """Given beats declined beats not done; nothing recorded is not_yet."""
    if any(o in GIVEN for o in outcomes_today):
        return "given"
    if Outcome.DECLINED in outcomes_today:
        return "declined"
    if Outcome.NOT_DONE in outcomes_today:
        return "not_done"
    return "not_yet"


def board(ward_id: int, today: date) -> list[BoardRow]:
    """The board for a ward on a local day, due first: three queries whatever its size, each
    resident's sessions summed up by the database (one row per resident, not per session)."""
    people = db.session.scalars(
        select(Resident)
        .options(selectinload(Resident.consents))
        .where(Resident.ward_id == ward_id, on_the_board(today))
        .order_by(Resident.room, Resident.family_name)
    ).all()
    lookback_start, _ = local_day_bounds(today - timedelta(days=LOOKBACK_DAYS))
    today_start, end_of_today = local_day_bounds(today)
    week_start, _ = local_day_bounds(today - timedelta(days=today.weekday()))
    summaries = {
        row.resident_id: row
        for row in db.session.execute(
            _summed_up(ward_id, lookback_start, week_start, today_start, end_of_today)
        )
    }
    rows = [_row(person, summaries.get(person.id), today) for person in people]
    return sorted(rows, key=lambda row: row.due_first)  # stable: by room within each group


def _summed_up(ward_id: int, lookback_start, week_start, today_start, end_of_today) -> Select:
    """Per resident: massages this week, the last massage, and today's outcomes."""
    version = CareSessionVersion
    given = version.outcome.in_([o.value for o in GIVEN])
    today = version.occurred_at >= today_start

    def counted(condition):
        return func.sum(case((condition, 1), else_=0))

    columns = select(
        CareSession.resident_id,
        counted(and_(given, version.occurred_at >= week_start)).label("week_given"),
        func.max(case((given, version.occurred_at))).label("last_given"),
        counted(and_(given, today)).label("given_today"),
        counted(and_(version.outcome == Outcome.DECLINED.value, today)).label("declined_today"),
        counted(and_(version.outcome == Outcome.NOT_DONE.value, today)).label("not_done_today"),
    )
    return in_ward_between(only_current(columns), ward_id, lookback_start, end_of_today).group_by(
        CareSession.resident_id
    )


def _outcomes_today(summary) -> list[str]:
    """Which kinds of entry the resident has today, from the summed-up row."""
    if summary is None:
        return []
    kinds = (
        (Outcome.COMPLETED, summary.given_today),
        (Outcome.DECLINED, summary.declined_today),
        (Outcome.NOT_DONE, summary.not_done_today),
    )
    return [outcome.value for outcome, count in kinds if count]


def _row(resident: Resident, summary, today: date) -> BoardRow:
    consent = resident.consent_on(today)
    week_given = int(summary.week_given) if summary else 0
    last_given = local_date(summary.last_given) if summary and summary.last_given else None
    # Beyond the look-back, the gap is at least that long: count from the look-back or the
    # admission, whichever is later.
    since = last_given or max(resident.admitted_on, today - timedelta(days=LOOKBACK_DAYS + 1))
    standing = consent_standing(consent, today)
    return BoardRow(
        resident=resident,
        consent=consent,
        today=today_state(_outcomes_today(summary)),
        week_given=week_given,
        target=resident.sessions_per_week,
        week_state=week_state(week_given, resident.sessions_per_week, today, (today - since).days),
        last_given=last_given,
        stop=" and ".join(reasons_to_stop(resident, today)),
        consent_standing=standing,
    )


def _waiting_for_sleep(query: Select, ward_id: int, today: date) -> Select:
    """Yesterday's given sessions: the night after them is the one that has just ended."""
    start, _ = local_day_bounds(today - timedelta(days=1))
    today_start, _ = local_day_bounds(today)
    return in_ward_between(only_current(query), ward_id, start, today_start).where(
        CareSessionVersion.outcome.in_([o.value for o in GIVEN]),
        CareSessionVersion.sleep_after_status.is_(None),
    )


def follow_ups(ward_id: int, today: date) -> list[tuple[Resident, CareSessionVersion]]:
    """Yesterday's given sessions whose night-after sleep is still to be recorded."""
    rows = db.session.execute(
        _waiting_for_sleep(
            select(CareSessionVersion, CareSession.resident_id), ward_id, today
        ).order_by(CareSessionVersion.occurred_at)
    ).all()
    residents = {
        r.id: r
        for r in db.session.scalars(
            select(Resident).where(Resident.id.in_({resident_id for _, resident_id in rows}))
        )
    }
    return [(residents[resident_id], version) for version, resident_id in rows]


def follow_up_count(ward_id: int, today: date) -> int:
    """How many sleep follow-ups are waiting, for the board's reminder."""
    query = _waiting_for_sleep(select(func.count(CareSessionVersion.id)), ward_id, today)
    return db.session.scalar(query)

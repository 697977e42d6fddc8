"""The ward board: who has had a session today and this week, and who is due, in a few queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property, lru_cache

from sqlalchemy import Date, Select, and_, bindparam, case, func, select
from sqlalchemy.orm import load_only, raiseload

from carelog.care.models import CareSession, CareSessionVersion
from carelog.care.queries import (
    current_dialect,
    in_ward_between,
    on_the_board,
    only_current,
    summed_standing,
)
from carelog.care.rules import consent_standing, reasons_to_stop_with
from carelog.care.vocabulary import GIVEN, Outcome
from carelog.care.week import today_state, week_state
from carelog.extensions import db
from carelog.local_time import local_date, local_day_bounds
from carelog.residents.models import Consent, Resident
from carelog.residents.plan import COMMUNICATION_NEEDS, plan_weekdays

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
    "later": "Planned for another day",
    "met": "Done for this week",
}


# What a board row shows of a resident and of the consent in force, and nothing more: 150 rows of
# every column cost a third of the page's time. Any other column raises, as does any
# relationship (a row must not load its own), so these lists are all a row can show: the board's
# HTML memo (board_html.py) keys on them.
RESIDENT_SHOWN = (
    Resident.id,
    Resident.given_name,
    Resident.family_name,
    Resident.preferred_name,
    Resident.room,
    Resident.admitted_on,
    Resident.sessions_per_week,
    Resident.defer_sessions,
    Resident.defer_reason,
    Resident.defer_until,
    Resident.avoid_left_hand,
    Resident.avoid_right_hand,
    Resident.photo_id,
    Resident.light_pressure_only,
    Resident.allergies,
    Resident.plan_days,
    *(getattr(Resident, key) for key in COMMUNICATION_NEEDS),
)
CONSENT_SHOWN = (Consent.id, Consent.consent_given, Consent.decided_on, Consent.review_on)
ON_THE_BOARD = (
    load_only(*RESIDENT_SHOWN, raiseload=True),
    load_only(*CONSENT_SHOWN, raiseload=True),
    raiseload("*"),
)


@dataclass(frozen=True)
class BoardRow:
    """One resident's line on the board."""

    resident: Resident
    consent: Consent | None
    today: str  # given, declined, not_done or not_yet
    week_given: int
    target: int
    week_state: str  # met, due, later (the plan names other days) or overdue
    last_given: date | None
    stop: str = ""  # why no massage may be given today, in words; empty when one may
    consent_standing: str = "valid"  # valid, refuses, none or review_overdue

    @cached_property  # read several times a row, by the sort and by the template
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


@dataclass(frozen=True)
class Board:
    """A ward's board: its rows, due first, and how many residents to ask how they slept."""

    rows: list[BoardRow]
    follow_up_count: int


def board(ward_id: int, today: date) -> Board:
    """The board for a ward on a local day: two queries whatever its size, one for the residents
    with the consent decision in force today, one for their sessions summed up by the database
    (one row per resident, not per session)."""
    people_query, summary_query = _statements(current_dialect())
    lookback_start, _ = local_day_bounds(today - timedelta(days=LOOKBACK_DAYS))
    yesterday_start, _ = local_day_bounds(today - timedelta(days=1))
    today_start, end_of_today = local_day_bounds(today)
    week_start, _ = local_day_bounds(today - timedelta(days=today.weekday()))
    people = db.session.execute(people_query, {"ward_id": ward_id, "day": today}).all()
    summaries = {
        row.resident_id: row
        for row in db.session.execute(
            summary_query,
            {
                "ward_id": ward_id,
                "lookback_start": lookback_start,
                "week_start": week_start,
                "yesterday_start": yesterday_start,
                "today_start": today_start,
                "end_of_today": end_of_today,
            },
        )
    }
    rows = [_row(person, consent, summaries.get(person.id), today) for person, consent in people]
    return Board(
        rows=sorted(rows, key=lambda row: row.due_first),  # stable: by room within each group
        follow_up_count=sum(int(s.awaiting_sleep) for s in summaries.values()),
    )


@lru_cache(maxsize=4)
def _statements(dialect: str) -> tuple[Select, Select]:
    """The board's two statements, built once for each kind of database, with the ward, the day
    and its instants as parameters: building them afresh for every board cost about as much as
    running them."""
    day = bindparam("day", type_=Date)
    in_force = Consent.in_force_on(day)
    people = (
        select(Resident, Consent)
        .outerjoin(in_force, in_force.c.resident_id == Resident.id)
        .outerjoin(Consent, Consent.id == in_force.c.id)
        .options(*ON_THE_BOARD)
        .where(Resident.ward_id == bindparam("ward_id"), on_the_board(day))
        .order_by(Resident.room, Resident.family_name)
    )
    return people, _summed_up(dialect)


def _summed_up(dialect: str) -> Select:
    """Per resident: massages this week, the last massage, today's outcomes, and yesterday's
    massages still waiting for their night-after sleep; from each session's current standing
    (CareSession.current_*), read off one index without a version."""
    standing = CareSession
    given = standing.current_outcome.in_([o.value for o in GIVEN])
    when = standing.current_occurred_at
    happened_today = when >= bindparam("today_start")
    happened_yesterday = and_(when >= bindparam("yesterday_start"), ~happened_today)

    def counted(condition):
        return func.sum(case((condition, 1), else_=0))

    return summed_standing(
        bindparam("ward_id"),
        bindparam("lookback_start"),
        bindparam("end_of_today"),
        counted(and_(given, when >= bindparam("week_start"))).label("week_given"),
        func.max(case((given, when))).label("last_given"),
        counted(and_(given, happened_today)).label("given_today"),
        counted(and_(standing.current_outcome == Outcome.DECLINED.value, happened_today)).label(
            "declined_today"
        ),
        counted(and_(standing.current_outcome == Outcome.NOT_DONE.value, happened_today)).label(
            "not_done_today"
        ),
        # the night after a massage given yesterday has just ended: is its sleep recorded?
        counted(
            and_(given, happened_yesterday, standing.current_sleep_after_status.is_(None))
        ).label("awaiting_sleep"),
        dialect=dialect,
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


def _row(resident: Resident, consent: Consent | None, summary, today: date) -> BoardRow:
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
        week_state=week_state(
            week_given,
            resident.sessions_per_week,
            today,
            (today - since).days,
            plan_weekdays(resident.plan_days),
        ),
        last_given=last_given,
        stop=" and ".join(reasons_to_stop_with(resident, consent, today)),
        consent_standing=standing,
    )


def _awaiting_sleep(yesterday_start, today_start):
    """A current version waiting for its night-after sleep: a massage given yesterday (the night
    after it is the one that has just ended) with no sleep recorded yet."""
    return and_(
        CareSessionVersion.occurred_at >= yesterday_start,
        CareSessionVersion.occurred_at < today_start,
        CareSessionVersion.outcome.in_([o.value for o in GIVEN]),
        CareSessionVersion.sleep_after_status.is_(None),
    )


def follow_ups(ward_id: int, today: date) -> list[tuple[Resident, CareSessionVersion]]:
    """Yesterday's given sessions whose night-after sleep is still to be recorded."""
    start, _ = local_day_bounds(today - timedelta(days=1))
    today_start, _ = local_day_bounds(today)
    query = only_current(select(CareSessionVersion, CareSession.resident_id))
    rows = db.session.execute(
        in_ward_between(query, ward_id, start, today_start)
        .where(_awaiting_sleep(start, today_start))
        .order_by(CareSessionVersion.occurred_at)
    ).all()
    residents = {
        r.id: r
        for r in db.session.scalars(
            select(Resident).where(Resident.id.in_({resident_id for _, resident_id in rows}))
        )
    }
    return [(residents[resident_id], version) for version, resident_id in rows]

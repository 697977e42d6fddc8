"""What needs a care manager's attention today: residents nobody has massaged for a while,
consent reviews due, sessions given despite a warning, what nurses saw during a massage, and
next-morning sleep still missing. Each list is one or two queries whatever the home's size."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import selectinload

from carelog.accounts.models import User
from carelog.care.models import CareSessionVersion
from carelog.care.queries import current_between, on_the_board, session_lookup, summed_per_resident
from carelog.care.rules import reasons_to_stop
from carelog.care.vocabulary import GIVEN, OBSERVATION_WORDS
from carelog.dashboard.models import OverrideAcknowledgement
from carelog.extensions import db
from carelog.local_time import local, local_day_bounds
from carelog.residents.models import Consent, Resident

RECENT_DAYS = 7  # overrides, observations and missing sleep: the last seven days, today included
REVIEW_WARNING_DAYS = 30  # consent reviews due within this many days are listed


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _people(ids) -> dict[int, Resident]:
    if not ids:
        return {}
    return {
        r.id: r
        for r in db.session.scalars(
            select(Resident).options(selectinload(Resident.ward)).where(Resident.id.in_(ids))
        )
    }


def _names(ids) -> dict[int, str]:
    if not ids:
        return {}
    return dict(
        db.session.execute(select(User.id, User.full_name).where(User.id.in_(ids))).tuples().all()
    )


# ----- residents not massaged --------------------------------------------------------------------


@dataclass(frozen=True)
class NotMassaged:
    resident: Resident
    ward: str
    since: date  # no massage given on or after this day
    why: str  # why none may be given today, if that is so


def not_massaged(today: date) -> list[NotMassaged]:
    """Residents on the board who have had no massage for CARELOG_NOT_MASSAGED_DAYS (14) days,
    counting only those admitted before that; with the reason none may be given, if any."""
    days = current_app.config["CARELOG_NOT_MASSAGED_DAYS"]
    since = today - timedelta(days=days - 1)
    start, _ = local_day_bounds(since)
    _, end = local_day_bounds(today)
    given = CareSessionVersion.outcome.in_([o.value for o in GIVEN])
    massaged = {
        row.resident_id
        for row in db.session.execute(
            summed_per_resident(
                None, start, end, func.sum(case((given, 1), else_=0)).label("n"), dialect=_dialect()
            )
        )
        if row.n
    }
    people = db.session.scalars(
        select(Resident)
        .options(selectinload(Resident.consents), selectinload(Resident.ward))
        .where(on_the_board(today), Resident.admitted_on < since)
        .order_by(Resident.family_name, Resident.given_name)
    ).all()
    return [
        NotMassaged(p, p.ward.name, since, " and ".join(reasons_to_stop(p, today)))
        for p in people
        if p.id not in massaged
    ]


# ----- consent reviews ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentReview:
    resident: Resident
    ward: str
    consent: Consent | None
    overdue: bool

    @property
    def words(self) -> str:
        if self.consent is None:
            return "No consent decision recorded"
        when = f"{self.consent.review_on:%a %-d %b %Y}"
        return f"Review was due {when}" if self.overdue else f"Review due {when}"


def consent_reviews(today: date) -> list[ConsentReview]:
    """Residents on the board whose consent decision is overdue for review or due within
    REVIEW_WARNING_DAYS, and those with none recorded; overdue first, then by date."""
    in_force = Consent.in_force_on(today)
    rows = db.session.execute(
        select(Resident, Consent)
        .options(selectinload(Resident.ward))
        .outerjoin(in_force, in_force.c.resident_id == Resident.id)
        .outerjoin(Consent, Consent.id == in_force.c.id)
        .where(on_the_board(today))
        .where(
            (Consent.id.is_(None))
            | (Consent.review_on <= today + timedelta(days=REVIEW_WARNING_DAYS))
        )
    ).all()
    found = [ConsentReview(p, p.ward.name, c, c is None or c.review_on < today) for p, c in rows]
    return sorted(
        found,
        key=lambda r: (not r.overdue, r.consent.review_on if r.consent else date.min),
    )


# ----- sessions of the last days: overrides, observations, sleep ------------------------------


@dataclass(frozen=True)
class RecentSession:
    """A session of the last few days, as its current version records it."""

    resident: Resident
    version: CareSessionVersion
    given_by: str
    recorded_by: str
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None

    @property
    def session_id(self) -> int:
        return self.version.session_id

    @property
    def observation_words(self) -> str:
        codes = [c for c in (self.version.observations or "").split(",") if c]
        return ", ".join(OBSERVATION_WORDS.get(c, c) for c in codes)

    @property
    def when(self) -> datetime:
        return local(self.version.occurred_at)


def _recent(today: date, condition, first_day: date, last_day_exclusive: date, extra=()):
    """Current versions between two days matching a condition, with their residents, oldest
    first; `extra` columns come back beside each version."""
    start, _ = local_day_bounds(first_day)
    end, _ = local_day_bounds(last_day_exclusive)
    session = session_lookup(_dialect())
    rows = db.session.execute(
        current_between(session, start, end, CareSessionVersion, session.c.resident_id, *extra)
        .where(condition)
        .order_by(CareSessionVersion.occurred_at)
    ).all()
    return rows


def _as_recent(rows, acknowledgements=None) -> list[RecentSession]:
    people = _people({row[1] for row in rows})
    names = _names(
        {row[0].given_by_id for row in rows if row[0].given_by_id}
        | {row[0].created_by_id for row in rows}
        | {a.acknowledged_by_id for a in (acknowledgements or {}).values()}
    )
    found = []
    for row in rows:
        version = row[0]
        acknowledged = (acknowledgements or {}).get((version.session_id, version.version_no))
        found.append(
            RecentSession(
                resident=people[row[1]],
                version=version,
                given_by=names.get(version.given_by_id or version.created_by_id, "?"),
                recorded_by=names.get(version.created_by_id, "?"),
                acknowledged_by=names.get(acknowledged.acknowledged_by_id)
                if acknowledged
                else None,
                acknowledged_at=local(acknowledged.acknowledged_at) if acknowledged else None,
            )
        )
    return found


def overrides(today: date) -> list[RecentSession]:
    """Sessions given in the last RECENT_DAYS although a warning stood (no valid consent, a hand
    to avoid, pressure), with the reason given and whether a manager has acknowledged them."""
    first = today - timedelta(days=RECENT_DAYS - 1)
    rows = _recent(
        today,
        and_(
            CareSessionVersion.override_reason.is_not(None),
            func.length(func.trim(CareSessionVersion.override_reason)) > 0,
        ),
        first,
        today + timedelta(days=1),
    )
    keys = [(row[0].session_id, row[0].version_no) for row in rows]
    acknowledgements = {}
    if keys:
        for ack in db.session.scalars(
            select(OverrideAcknowledgement).where(
                OverrideAcknowledgement.session_id.in_({k[0] for k in keys})
            )
        ):
            acknowledgements[(ack.session_id, ack.version_no)] = ack
    return _as_recent(rows, acknowledgements)


def observations(today: date) -> list[RecentSession]:
    """Sessions of the last RECENT_DAYS in which the nurse saw redness, a bruise, a skin tear,
    pain or distress, with what was done and who was told."""
    first = today - timedelta(days=RECENT_DAYS - 1)
    condition = and_(
        CareSessionVersion.observations.is_not(None), CareSessionVersion.observations != ""
    )
    return _as_recent(_recent(today, condition, first, today + timedelta(days=1)))


def sleep_missing(today: date) -> list[RecentSession]:
    """Massages given in the RECENT_DAYS before today whose next-morning sleep was never
    recorded (today's cannot be yet: their night has not ended)."""
    first = today - timedelta(days=RECENT_DAYS)
    condition = and_(
        CareSessionVersion.outcome.in_([o.value for o in GIVEN]),
        CareSessionVersion.sleep_after_status.is_(None),
    )
    return _as_recent(_recent(today, condition, first, today))

"""What needs a care manager's attention today: residents nobody has massaged for a while,
consent reviews due, sessions given despite a warning, what nurses saw during a massage, and
next-morning sleep still missing. Each list is one or two queries whatever the home's size."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import joinedload

from carelog.accounts.models import User
from carelog.care.models import CareSession, CareSessionVersion
from carelog.care.queries import (
    current_between,
    current_dialect,
    session_lookup,
    summed_standing,
)
from carelog.care.rules import reasons_to_stop
from carelog.care.vocabulary import GIVEN, OBSERVATION_WORDS
from carelog.dashboard.models import OverrideAcknowledgement
from carelog.extensions import db
from carelog.local_time import local, local_day_bounds
from carelog.residents.models import Consent, Resident

RECENT_DAYS = 7  # overrides, observations and missing sleep: the last seven days, today included
REVIEW_WARNING_DAYS = 30  # consent reviews due within this many days are listed


def _people(ids, known: dict[int, Resident]) -> dict[int, Resident]:
    """The residents with these ids: those already loaded, and any others in one query."""
    wanted = set(ids) - set(known)
    found = dict(known)
    if wanted:
        found.update(
            (r.id, r)
            for r in db.session.scalars(
                select(Resident).options(joinedload(Resident.ward)).where(Resident.id.in_(wanted))
            )
        )
    return found


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


def not_massaged(today: date, people: list[Resident]) -> list[NotMassaged]:
    """Residents on the board who have had no massage for CARELOG_NOT_MASSAGED_DAYS (14) days,
    counting only those admitted before that; with the reason none may be given, if any."""
    days = current_app.config["CARELOG_NOT_MASSAGED_DAYS"]
    since = today - timedelta(days=days - 1)
    start, _ = local_day_bounds(since)
    _, end = local_day_bounds(today)
    given = CareSession.current_outcome.in_([o.value for o in GIVEN])
    massaged = {
        row.resident_id
        for row in db.session.execute(
            summed_standing(
                None,
                start,
                end,
                func.sum(case((given, 1), else_=0)).label("n"),
                dialect=current_dialect(),
            )
        )
        if row.n
    }
    return [
        NotMassaged(p, p.ward.name, since, " and ".join(reasons_to_stop(p, today)))
        for p in people
        if _on_the_board(p, today) and p.admitted_on < since and p.id not in massaged
    ]


def _on_the_board(person: Resident, today: date) -> bool:
    """In the home today: admitted, and not departed by today (care/queries.on_the_board)."""
    return person.admitted_on <= today and not person.has_left(today)


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


def consent_reviews(today: date, people: list[Resident]) -> list[ConsentReview]:
    """Residents on the board whose consent decision is overdue for review or due within
    REVIEW_WARNING_DAYS, and those with none recorded; overdue first, then by date."""
    warn_from = today + timedelta(days=REVIEW_WARNING_DAYS)
    found = []
    for person in people:
        if not _on_the_board(person, today):
            continue
        consent = person.consent_on(today)
        if consent is None or consent.review_on <= warn_from:
            overdue = consent is None or consent.review_on < today
            found.append(ConsentReview(person, person.ward.name, consent, overdue))
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


@dataclass(frozen=True)
class Listing:
    """The newest lines of a list, at most a page's worth, and how many there are in all."""

    items: list[RecentSession]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.items)


def _recent(condition, first_day: date, last_day_exclusive: date, limit: int | None):
    """Current versions between two days matching a condition, with their residents' ids,
    newest first (at most `limit`), and how many match in all."""
    start, _ = local_day_bounds(first_day)
    end, _ = local_day_bounds(last_day_exclusive)
    session = session_lookup(current_dialect())
    query = current_between(session, start, end, CareSessionVersion, session.c.resident_id).where(
        condition
    )
    rows = db.session.execute(
        query.order_by(CareSessionVersion.occurred_at.desc()).limit(limit)
    ).all()
    if limit is None:
        return rows, len(rows)
    counted = current_between(session, start, end, func.count()).where(condition)
    return rows, db.session.scalar(counted)


def _as_recent(rows, known: dict[int, Resident], acknowledgements=None) -> list[RecentSession]:
    people = _people({row[1] for row in rows}, known)
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
                acknowledged_by=names.get(acknowledged.acknowledged_by_id)
                if acknowledged
                else None,
                acknowledged_at=local(acknowledged.acknowledged_at) if acknowledged else None,
            )
        )
    return found


def overrides(today: date, known: dict[int, Resident]) -> Listing:
    """Sessions given in the last RECENT_DAYS although a warning stood (no valid consent, a hand
    to avoid, pressure), with the reason given and whether a manager has acknowledged them.
    Every one is listed: each waits for a manager's acknowledgement."""
    first = today - timedelta(days=RECENT_DAYS - 1)
    rows, total = _recent(
        and_(
            CareSessionVersion.override_reason.is_not(None),
            func.length(func.trim(CareSessionVersion.override_reason)) > 0,
        ),
        first,
        today + timedelta(days=1),
        limit=None,
    )
    acknowledgements = {}
    if rows:
        for ack in db.session.scalars(
            select(OverrideAcknowledgement).where(
                OverrideAcknowledgement.session_id.in_({row[0].session_id for row in rows})
            )
        ):
            acknowledgements[(ack.session_id, ack.version_no)] = ack
    return Listing(_as_recent(rows, known, acknowledgements), total)


def observations(today: date, known: dict[int, Resident], limit: int) -> Listing:
    """Sessions of the last RECENT_DAYS in which the nurse saw redness, a bruise, a skin tear,
    pain or distress, with what was done and who was told; the newest `limit` of them."""
    first = today - timedelta(days=RECENT_DAYS - 1)
    condition = and_(
        CareSessionVersion.observations.is_not(None), CareSessionVersion.observations != ""
    )
    rows, total = _recent(condition, first, today + timedelta(days=1), limit)
    return Listing(_as_recent(rows, known), total)


def sleep_missing(today: date, known: dict[int, Resident], limit: int) -> Listing:
    """Massages given in the RECENT_DAYS before today whose next-morning sleep was never
    recorded (today's cannot be yet: their night has not ended); the newest `limit` of them."""
    first = today - timedelta(days=RECENT_DAYS)
    condition = and_(
        CareSessionVersion.outcome.in_([o.value for o in GIVEN]),
        CareSessionVersion.sleep_after_status.is_(None),
    )
    rows, total = _recent(condition, first, today, limit)
    return Listing(_as_recent(rows, known), total)

"""How long records are kept: never deleted before the configured retention period ends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from carelog.care.models import CareSession, CareSessionVersion
from carelog.extensions import db
from carelog.local_time import local, local_today
from carelog.residents.models import Resident


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class Retention:
    """When a resident's records may first be considered for disposal."""

    resident: Resident
    last_care: date
    keep_until: date


def last_care_day(resident: Resident, last_session: date | None) -> date:
    """The resident's last day of care: departure, else their last session, else today."""
    return resident.departed_on or last_session or local_today()


def schedule(years: int) -> list[Retention]:
    """Every resident with the date until which their records must be kept."""
    last_sessions: dict[int, datetime] = dict(
        db.session.execute(
            select(CareSession.resident_id, func.max(CareSessionVersion.occurred_at))
            .join(CareSessionVersion, CareSessionVersion.session_id == CareSession.id)
            .group_by(CareSession.resident_id)
        )
        .tuples()
        .all()
    )
    rows = []
    for resident in db.session.scalars(select(Resident).order_by(Resident.family_name)):
        last = last_sessions.get(resident.id)
        last_care = last_care_day(resident, local(last).date() if last else None)
        rows.append(Retention(resident, last_care, add_years(last_care, years)))
    return rows

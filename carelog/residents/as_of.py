"""A resident's record as it stood at the end of a past day: facts, precautions, plan, photo,
ward and the consent decisions known by then, read from the record's history."""

from __future__ import annotations

import inspect
from datetime import date, datetime
from types import MethodType
from typing import Any

from carelog.accounts.models import Ward
from carelog.extensions import db
from carelog.local_time import local_date, local_day_bounds, local_today
from carelog.residents import history
from carelog.residents.models import Consent, Resident

_COLUMNS = frozenset(Resident.__table__.columns.keys()) - {"id", "created_at"}


class RecordAsOf:
    """Reads like a Resident (pages and badges take either), with every value as it stood.

    Columns come from the version in force at the end of the day (or at `moment` within it,
    for a page about something that happened then); properties and methods of
    Resident (display_name, consent_on, deferred_on...) run on those values; consent decisions
    are those recorded by then and dated on or before the day."""

    def __init__(self, resident: Resident, day: date, moment: datetime | None = None):
        end = moment or local_day_bounds(day)[1]
        self._resident = resident
        versions = history.versions_by_resident([resident.id])[resident.id]
        self._values = history.in_force(versions, end) or {}
        self.as_of = day
        self.ward = db.session.get(Ward, self._values["ward_id"]) or resident.ward
        self._consents = [
            c for c in resident.consents if c.recorded_at <= end and c.decided_on <= day
        ]

    @property
    def consents(self) -> list[Consent]:
        return self._consents

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._values:
            return self._values[name]
        if name in _COLUMNS:
            return None  # a column the record did not have yet (a version made before it)
        found = inspect.getattr_static(Resident, name, None)
        if isinstance(found, property):
            return found.fget(self)  # type: ignore[misc]
        if inspect.isfunction(found):
            return MethodType(found, self)
        return getattr(self._resident, name)


class NotOnRecord(ValueError):
    """A day the record cannot be shown for, in words for the reader."""


def record_as_of(resident: Resident, day: date, today: date) -> RecordAsOf:
    """The record at the end of `day`, which must lie between the admission and today."""
    if day > today:
        raise NotOnRecord("The record can be shown as it stood on a past day, or today.")
    if day < resident.admitted_on:
        raise NotOnRecord(
            f"{resident.display_name} was admitted on {resident.admitted_on:%-d %B %Y}: "
            "choose that day or a later one."
        )
    return RecordAsOf(resident, day)


def record_at(resident: Resident, moment: datetime) -> Resident | RecordAsOf:
    """The record as it stood at a moment of care (a session's time), for the page about it;
    the record itself for a moment it cannot show (before the admission, or still to come)."""
    day = local_date(moment)
    if not resident.admitted_on <= day <= local_today():
        return resident
    return RecordAsOf(resident, day, moment)

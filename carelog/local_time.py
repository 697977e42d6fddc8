"""The home's time zone: stored UTC to local time, and local days as UTC bounds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache, lru_cache
from typing import Protocol, overload
from zoneinfo import ZoneInfo

from flask import current_app


def home_zone() -> ZoneInfo:
    """The home's time zone, from configuration."""
    return _zone(current_app.config["CARELOG_TIMEZONE"])


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@overload
def local(moment: datetime) -> datetime: ...
@overload
def local(moment: None) -> None: ...
def local(moment: datetime | None) -> datetime | None:
    """Convert a stored UTC time to the home's local time."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(home_zone())


def local_date(moment: datetime) -> date:
    """The home's calendar day of a stored UTC time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(home_zone()).date()


def local_today() -> date:
    """Today's date where the home is."""
    return datetime.now(home_zone()).date()


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC start and end of a local calendar day (DST-aware)."""
    return _day_bounds(day, current_app.config["CARELOG_TIMEZONE"])


@lru_cache(maxsize=4096)  # planning asks for every day of a month for every resident
def _day_bounds(day: date, zone_name: str) -> tuple[datetime, datetime]:
    zone = _zone(zone_name)
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    end = start + timedelta(days=1)
    end = datetime(end.year, end.month, end.day, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def format_datetime(moment: datetime | None) -> str:
    """A local date and time as staff read it: 21 Nov 2026, 14:05."""
    shown = local(moment)
    return shown.strftime("%-d %b %Y, %H:%M") if shown else ""


def local_clock(moment: datetime) -> str:
    """The local time of day on the home's 24-hour clock: 13:05."""
    return local(moment).strftime("%H:%M")


def format_date(day: date | None) -> str:
    """A date as staff read it: 21 Nov 2026."""
    return day.strftime("%-d %b %Y") if day else ""


class Span(Protocol):
    """Consecutive local days, such as a Month."""

    @property
    def first_day(self) -> date: ...

    @property
    def last_day(self) -> date: ...


def month_bounds(span: Span) -> tuple[datetime, datetime]:
    """The UTC start of the first day and the end of the last day of a month (DST-aware)."""
    start, _ = local_day_bounds(span.first_day)
    _, end = local_day_bounds(span.last_day)
    return start, end

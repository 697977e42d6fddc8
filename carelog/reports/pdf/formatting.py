"""Plain-text formatting of dates, numbers and ratings as printed in reports."""

from __future__ import annotations

from datetime import date, datetime

from carelog.care.vocabulary import MOOD_WORDS, rating_text
from carelog.reports.document import Rating
from carelog.reports.month import MONTH_NAMES, Month

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


DASH = "–"


MINUS = "−"


def day(d: date | None) -> str:
    """Return a date as "3 Mar 1934", or a dash."""
    return DASH if d is None else f"{d.day} {MONTH_NAMES[d.month - 1][:3]} {d.year}"


def session_time(dt: datetime) -> str:
    """Return a session start as "Tue 03 14:05" (weekday, day of month, local time)."""
    return f"{DAY_NAMES[dt.weekday()]} {dt.day:02d}  {dt.hour:02d}:{dt.minute:02d}"


def stamp(dt: datetime) -> str:
    """Return a timestamp as "3 Jun 2025 14:05"."""
    return f"{day(dt.date())} {dt.hour:02d}:{dt.minute:02d}"


def number(x: float | None) -> str:
    """Return a median without a needless ".0", or a dash."""
    if x is None:
        return DASH
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}".rstrip("0")


def signed(x: float | None) -> str:
    """Return a change with its sign ("+2", "0", "−1.5"), or a dash."""
    if x is None:
        return DASH
    text = number(abs(x))
    return text if x == 0 else ("+" if x > 0 else MINUS) + text


def mood_value(x: float | None) -> str:
    """Return a mood median with its word when it is a whole level ("4 good")."""
    if x is None or not float(x).is_integer():
        return number(x)
    return f"{int(x)} {MOOD_WORDS[int(x) - 1]}"


def rating(r: Rating) -> str:
    """Return a rating's value (starred if an observer gave it) or its absence code."""
    status = "answered" if r.value is not None else r.absence
    return rating_text(r.value, status, r.rater, compact=True) or DASH


def before_after(before: Rating, after: Rating) -> str:
    """Return a before/after pair as "4 → 7"."""
    return f"{rating(before)} → {rating(after)}"


def words(key: str | None) -> str:
    """Return a snake_case code as plain words ("stopped_early" -> "stopped early")."""
    return "" if key is None else key.replace("_", " ")


def month_label(month: Month, figures_to: date | None) -> str:
    """ "October 2026", or "December 2026, figures to 1 Dec (month in progress)"."""
    if figures_to is None:
        return month.label
    return f"{month.label}, figures to {figures_to.day} {figures_to:%b} (month in progress)"

"""How far back and ahead a resident's dates may lie: one rule for admission, departure, birth,
and the consent decision and its review. Pure: it takes today's date, and imports no Flask."""

from __future__ import annotations

from datetime import date, timedelta

from carelog.errors import FieldError

OLDEST_BIRTH = date(1900, 1, 1)
EARLIEST_ADMISSION = date(1950, 1, 1)
PLANNED_AHEAD = timedelta(days=366)  # an admission or departure may be entered a year ahead
LONGEST_REVIEW = timedelta(days=5 * 366)  # the MCA asks for regular reviews; five years at most


def resident_date_problem(values: dict, today: date) -> FieldError | None:
    """Birth and admission dates out of their sensible range, in words, or None."""
    born, admitted = values.get("date_of_birth"), values.get("admitted_on")
    if born and born > today:
        return FieldError("date_of_birth", "The date of birth cannot be in the future.")
    if born and born < OLDEST_BIRTH:
        return FieldError("date_of_birth", "Check the year of birth.")
    if admitted and not EARLIEST_ADMISSION <= admitted <= today + PLANNED_AHEAD:
        return FieldError(
            "admitted_on",
            f"Give an admission date between {EARLIEST_ADMISSION.year} and a year from today.",
        )
    if admitted and born and admitted < born:
        return FieldError("admitted_on", "The admission date is before the date of birth.")
    return None


def departure_date_problem(departed: date, admitted: date, today: date) -> FieldError | None:
    """A departure before the admission, or more than a year ahead, in words, or None."""
    if departed < admitted:
        return FieldError("departed_on", "The departure date is before the admission date.")
    if departed > today + PLANNED_AHEAD:
        return FieldError("departed_on", "Give a departure date no more than a year from today.")
    return None


def consent_date_problem(decided: date, review: date, today: date) -> FieldError | None:
    """A decision in the future or long ago, or a review before it or years after, or None."""
    if decided > today:
        return FieldError("decided_on", "The decision cannot be dated in the future.")
    if decided < EARLIEST_ADMISSION:
        return FieldError("decided_on", "Check the year of the decision.")
    if review < decided:
        return FieldError("review_on", "The review date must be after the decision date.")
    if review > decided + LONGEST_REVIEW:
        return FieldError("review_on", "Review the decision within five years of making it.")
    return None

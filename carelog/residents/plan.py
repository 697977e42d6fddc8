"""The person-centred plan's words and rules, said once (imports no Flask or SQLAlchemy).

The plan lives on the resident's record (its columns are in PLAN_FIELDS), so every change is a
new version of the record, with its reason, and the plan in force on any past day can be read
back (residents/history.in_force) for a report of that month.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # date.weekday() order
WEEKDAY_WORDS = {
    "mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday",
    "fri": "Friday", "sat": "Saturday", "sun": "Sunday",
}  # fmt: skip
TIMES_OF_DAY_WORDS = {"morning": "Morning", "afternoon": "Afternoon", "evening": "Evening"}
HAND_PREFERENCE_WORDS = {"left": "Left hand", "right": "Right hand", "both": "Both hands"}

# The Accessible Information Standard: needs flagged whenever the record is opened.
COMMUNICATION_NEEDS = {
    "communication_hearing": "Hearing",
    "communication_sight": "Sight",
    "communication_language": "Language",
    "communication_understanding": "Understanding",
}
ABOUT_THE_PERSON = {
    "plan_likes": "Likes",
    "plan_dislikes": "Dislikes",
    "plan_at_ease": "How to help me feel at ease",
    "plan_discomfort": "How I show discomfort or pain",
}
PLAN_FIELDS = (
    "plan_days", "plan_times", "plan_hand",
    *ABOUT_THE_PERSON, *COMMUNICATION_NEEDS,
)  # fmt: skip
PLAN_LABELS = {
    "plan_days": "Preferred days",
    "plan_times": "Preferred times of day",
    "plan_hand": "Preferred hand",
    **ABOUT_THE_PERSON,
    **{key: f"Communication: {words.lower()}" for key, words in COMMUNICATION_NEEDS.items()},
}


def codes(stored: str | None) -> list[str]:
    """ "mon,wed" -> ["mon", "wed"]."""
    return [code for code in (stored or "").split(",") if code]


def stored(chosen: Iterable[str], order: Iterable[str]) -> str | None:
    """The chosen codes in their natural order, comma-separated; None when none is chosen."""
    picked = set(chosen)
    return ",".join(code for code in order if code in picked) or None


def plan_weekdays(stored_days: str | None) -> frozenset[int]:
    """The preferred days as date.weekday() numbers; empty when any day will do."""
    return frozenset(WEEKDAYS.index(code) for code in codes(stored_days) if code in WEEKDAYS)


def days_words(stored_days: str | None) -> str:
    """ "Monday, Wednesday and Friday", or "" when any day will do."""
    return _listed([WEEKDAY_WORDS[c] for c in codes(stored_days) if c in WEEKDAY_WORDS])


def days_short(stored_days: str | None) -> str:
    """ "Mon, Wed, Fri" for the board's narrow line."""
    return ", ".join(WEEKDAY_WORDS[c][:3] for c in codes(stored_days) if c in WEEKDAY_WORDS)


def times_words(stored_times: str | None) -> str:
    """ "morning and afternoon", or "" when any time will do."""
    chosen = [c for c in codes(stored_times) if c in TIMES_OF_DAY_WORDS]
    return _listed([TIMES_OF_DAY_WORDS[c].lower() for c in chosen])


def coded_words(key: str, value: str | None) -> str | None:
    """A stored plan code in words ("Monday and Friday", "any day"); None for other fields."""
    if key == "plan_days":
        return days_words(value) or "any day"
    if key == "plan_times":
        return times_words(value) or "any time"
    if key == "plan_hand":
        return HAND_PREFERENCE_WORDS.get(value or "", "no preference")
    return None


def _listed(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


@dataclass(frozen=True, slots=True)
class PlanLine:
    label: str
    text: str


def _getter(values: Any):
    """Read a field from a resident (by attribute) or a version of the record (a dict)."""
    if isinstance(values, Mapping):
        return values.get
    return lambda key: getattr(values, key, None)


def plan_lines(values: Any) -> list[PlanLine]:
    """What the plan says, line by line in words, leaving out what it does not say."""
    get = _getter(values)
    found = []
    if days := days_words(get("plan_days")):
        found.append(PlanLine("Preferred days", days))
    if times := times_words(get("plan_times")):
        found.append(PlanLine("Preferred times of day", times.capitalize()))
    if hand := HAND_PREFERENCE_WORDS.get(get("plan_hand") or ""):
        found.append(PlanLine("Preferred hand", hand))
    for key, label in ABOUT_THE_PERSON.items():
        if text := (get(key) or "").strip():
            found.append(PlanLine(label, text))
    return found


def communication_needs(values: Any) -> list[PlanLine]:
    """The communication needs recorded (Accessible Information Standard), in words."""
    get = _getter(values)
    return [
        PlanLine(label, text.strip())
        for key, label in COMMUNICATION_NEEDS.items()
        if (text := get(key) or "").strip()
    ]

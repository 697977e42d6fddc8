"""The words of a session, said once: outcomes, scales, raters, reasons, observations.

Forms, pages, the PDF, the CSV and the demo all read these. Stored values are the codes (the keys
of each mapping); people only ever see the words. This module imports neither Flask nor
SQLAlchemy, so the PDF renderer can use it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class Outcome(enum.StrEnum):
    """How the session went; a decline or a not-done is a complete record, not missing data."""

    COMPLETED = "completed"
    STOPPED_EARLY = "stopped_early"
    DECLINED = "declined"
    NOT_DONE = "not_done"


OUTCOME_WORDS = {
    Outcome.COMPLETED: "Completed",
    Outcome.STOPPED_EARLY: "Stopped early",
    Outcome.DECLINED: "Declined",
    Outcome.NOT_DONE: "Not done",
}
GIVEN = (Outcome.COMPLETED, Outcome.STOPPED_EARLY)  # a massage took place


class VersionKind(enum.StrEnum):
    """Why a version exists."""

    ORIGINAL = "original"
    FOLLOW_UP = "follow_up"  # next-morning sleep added
    CORRECTION = "correction"
    VOID = "void"  # entered in error


class RatingStatus(enum.StrEnum):
    """A rating is a value or a stated reason there is none; never a silent default."""

    ANSWERED = "answered"
    DECLINED = "declined"
    UNABLE = "unable"
    NOT_ASSESSED = "not_assessed"


ABSENCE_WORDS = {
    RatingStatus.DECLINED: "Declined to answer",
    RatingStatus.UNABLE: "Unable to answer",
    RatingStatus.NOT_ASSESSED: "Not assessed",
}
# Short forms for table cells, explained in the report's reading guide.
ABSENCE_ABBREVIATIONS = {"declined": "decl", "unable": "unable", "not_assessed": "n/a"}

RATER_WORDS = {"self": "The resident", "observer": "Staff observing"}
RATERS = tuple(RATER_WORDS)
OBSERVER_MARK = "*"


@dataclass(frozen=True, slots=True)
class Scale:
    """One rating scale with its question and the words at each end; higher is better."""

    key: str
    title: str
    question: str
    low: int
    high: int
    low_word: str
    high_word: str
    words: tuple[str, ...] = ()  # a word for every point, where the scale has them

    def word(self, value: int) -> str | None:
        """The word for a point on the scale, if it has words."""
        return self.words[value - self.low] if self.words else None


MOOD_WORDS = ("very low", "low", "okay", "good", "very good")
RELAXATION = Scale(
    "relaxation", "Relaxation", "How relaxed do you feel right now?",
    0, 10, "not at all relaxed", "completely relaxed",
)  # fmt: skip
MOOD = Scale("mood", "Mood", "How are you feeling?", 1, 5, "very low", "very good", MOOD_WORDS)
SLEEP = Scale(
    "sleep", "Sleep", "How well did you sleep last night?", 0, 10, "very badly", "very well"
)
SCALES = {scale.key: scale for scale in (RELAXATION, MOOD, SLEEP)}

# Each rating a session holds: a scale asked before and after.
RATINGS = (
    "relaxation_before",
    "relaxation_after",
    "mood_before",
    "mood_after",
    "sleep_before",
    "sleep_after",
)
# Rated on the session form itself; sleep after is asked the next morning.
RATED_ON_THE_FORM = tuple(name for name in RATINGS if name != "sleep_after")


def scale_of(rating: str) -> Scale:
    """The scale of a rating such as "mood_before"."""
    return SCALES[rating.split("_")[0]]


NOT_DONE_REASON_WORDS = {
    "unwell": "Unwell",
    "asleep": "Asleep",
    "away": "Away",
    "deferred": "Deferred (precaution or no consent)",
    "other": "Other",
}
OBSERVATION_WORDS = {
    "redness": "Redness",
    "bruise": "Bruise",
    "skin_tear": "Skin tear",
    "pain": "Pain",
    "distress": "Distress",
}
OBSERVATIONS = tuple(OBSERVATION_WORDS)
ASSENT_WORDS = {
    "agreed": "Agreed",
    "nonverbal": "Accepted without words",
    "withdrew": "Withdrew part way",
    "declined": "Declined",
}
ASSENT_ON_THE_FORM = ("agreed", "nonverbal", "withdrew")  # a decline has its own button
HAND_WORDS = {"left": "Left", "right": "Right", "both": "Both"}
PRESSURE_WORDS = {"light": "Light", "normal": "Normal"}


# Every field a session records, in the order pages show it, with its label for people. A field
# with coded values also has its words in CODED_FIELDS; ratings are shown through rating_text.
FIELD_LABELS = {
    "occurred_at": "Started",
    "duration_minutes": "Duration (minutes)",
    "outcome": "Outcome",
    "outcome_reason": "Why stopped early",
    "not_done_reason": "Why not done",
    "assent": "Assent",
    "hands": "Hands",
    "pressure": "Pressure",
    "product": "Product",
    **{name: name.replace("_", " ").capitalize() for name in RATINGS},
    "observations": "Observed",
    "observation_action": "Action taken",
    "observation_told": "Who was told",
    "override_reason": "Precaution override",
    "repeat_confirmed": "Confirmed as another session",
    "note": "Note",
}
CODED_FIELDS: dict[str, Mapping[Any, str]] = {
    "outcome": OUTCOME_WORDS,
    "assent": ASSENT_WORDS,
    "hands": HAND_WORDS,
    "pressure": PRESSURE_WORDS,
    "not_done_reason": NOT_DONE_REASON_WORDS,
    "observations": OBSERVATION_WORDS,  # several, comma-separated
}


def choices(words: Mapping[Any, str], only: tuple[str, ...] | None = None) -> list[tuple[str, str]]:
    """(code, words) pairs for a form field, in the vocabulary's order."""
    return [(str(code), text) for code, text in words.items() if only is None or code in only]


def words_for(words: Mapping[Any, str], code: str | None) -> str:
    """The words for a stored code; an unknown code is shown as plain words, never hidden."""
    if code is None:
        return ""
    return words.get(code) or code.replace("_", " ")


def rating_text(
    value: int | None,
    status: str | None,
    rater: str | None,
    scale: Scale | None = None,
    compact: bool = False,
) -> str:
    """A rating as people read it: the one rendering used by pages, the PDF and the CSV.

    Full: "7", "good", "7 (observer)", "declined to answer". Compact, for table cells: "7",
    "7*" for an observer's rating, "decl", "unable", "n/a"; both give "" when nothing was said.
    """
    if status == RatingStatus.ANSWERED and value is not None:
        if compact:
            return f"{value}{OBSERVER_MARK}" if rater == "observer" else str(value)
        text = (scale.word(value) if scale else None) or str(value)
        return text + (" (observer)" if rater == "observer" else "")
    if not status:
        return ""
    if compact:
        return ABSENCE_ABBREVIATIONS.get(status, status)
    return words_for(ABSENCE_WORDS, status).lower()

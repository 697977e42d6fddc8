"""The words of a session, said once: outcomes, scales, raters, reasons, observations."""

from __future__ import annotations

import enum

OUTCOME_WORDS = {
    "completed": "Completed",
    "stopped_early": "Stopped early",
    "declined": "Declined",
    "not_done": "Not done",
}


class Outcome(enum.StrEnum):
    """How the session went; a decline or a not-done is a complete record, not missing data."""

    COMPLETED = "completed"
    STOPPED_EARLY = "stopped_early"
    DECLINED = "declined"
    NOT_DONE = "not_done"


GIVEN = (Outcome.COMPLETED, Outcome.STOPPED_EARLY)


class RatingStatus(enum.StrEnum):
    """A rating is a value or a stated reason there is none; never a silent default."""

    ANSWERED = "answered"
    DECLINED = "declined"
    UNABLE = "unable"
    NOT_ASSESSED = "not_assessed"


RATINGS = (
    "relaxation_before",
    "relaxation_after",
    "mood_before",
    "mood_after",
    "sleep_before",
    "sleep_after",
)


OBSERVATIONS = ("redness", "bruise", "skin_tear", "pain", "distress")


RATERS = ("self", "observer")


SCALES = {"relaxation": (0, 10), "mood": (1, 5), "sleep": (0, 10)}  # higher is better on all

"""The checks a session must pass before it is saved, each with the field to point at."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import current_app

from carelog.care.models import SessionContent
from carelog.care.vocabulary import RATERS, RATINGS, RatingStatus, scale_of
from carelog.errors import FieldError
from carelog.local_time import local_date
from carelog.residents.models import Resident

CLOCK_SKEW = timedelta(minutes=2)
STOP_MESSAGE = (
    "Do not give a hand massage: {reasons}. Record it as declined, or as not done "
    "(deferred). A care manager can record a session given for a good reason."
)


class CareError(FieldError):
    """A session that cannot be saved as given, with the field to point at, in plain words."""


class SubmissionConflict(CareError):
    """The same one-time key came back with different content; says which session has it."""

    def __init__(self, field: str | None, message: str, saved_session_id: int):
        super().__init__(field, message)
        self.saved_session_id = saved_session_id


def check_when(content: SessionContent, now: datetime, resident: Resident) -> None:
    """A session happened while the resident lived here, and not in the future.

    New sessions and corrections alike: a correction cannot move a session out of the stay.
    """
    occurred = content.occurred_at
    if occurred > now + CLOCK_SKEW:
        raise CareError("occurred_at", "That time is in the future. Give the time it happened.")
    day = local_date(occurred)
    if day < resident.admitted_on:
        raise CareError("occurred_at", "That is before the resident was admitted.")
    if resident.departed_on and day > resident.departed_on:
        raise CareError("occurred_at", "The resident had left by then.")


def check_timing(content: SessionContent, now: datetime, resident: Resident) -> bool:
    """check_when, and whether the entry is late (recorded long after the event, NMC Code
    10.1), in which case its note must say why; True if late."""
    check_when(content, now, resident)
    occurred = content.occurred_at
    late = now - occurred > timedelta(hours=current_app.config["CARELOG_LATE_ENTRY_HOURS"])
    if late and not content.note:
        raise CareError(
            "note", "This is recorded long after it happened: add a note saying why it is late."
        )
    return late


def reasons_to_stop(resident: Resident, day: date) -> list[str]:
    """Why no hand massage may be given on a day, in words: no valid consent, or sessions
    deferred. One rule for the board, the session form and the check at saving."""
    consent = resident.consent_on(day)
    reasons = []
    if consent is None or not consent.is_valid_on(day):
        reasons.append("there is no valid consent")
    if resident.defer_sessions:
        reasons.append("sessions are deferred")
    return reasons


def check_precautions(
    content: SessionContent, resident: Resident, may_override_a_stop: bool = True
) -> None:
    """A given session needs confirmed precautions; overriding one needs a reason. Where there
    is no valid consent or sessions are deferred, only a care manager may record one given."""
    if not content.given:
        return
    if not content.precautions_confirmed:
        raise CareError("precautions_confirmed", "Confirm you have read the precautions.")
    day = local_date(content.occurred_at)
    consent = resident.consent_on(day)
    concerns = reasons_to_stop(resident, day)
    if concerns and not may_override_a_stop:
        raise CareError("outcome", STOP_MESSAGE.format(reasons=" and ".join(concerns)))
    hands = content.hands
    if hands in ("left", "both") and resident.avoid_left_hand:
        concerns.append("the left hand is to be avoided")
    if hands in ("right", "both") and resident.avoid_right_hand:
        concerns.append("the right hand is to be avoided")
    if consent and hands and consent.scope_hands not in ("both", hands):
        concerns.append(f"consent covers the {consent.scope_hands} hand only")
    if resident.light_pressure_only and content.pressure == "normal":
        concerns.append("light pressure only is advised")
    if concerns and not (content.override_reason or "").strip():
        raise CareError(
            "override_reason",
            "Say why you went ahead although " + " and ".join(concerns) + ".",
        )


def check_ratings(content: SessionContent) -> None:
    """Each rating is a value on its scale by a named rater, or a reason there is none."""
    for name in RATINGS:
        value, status, rater = content.rating(name)
        if status == RatingStatus.ANSWERED and value is None:
            raise CareError(name, "Choose a rating, or say why there is none.")
        scale = scale_of(name)
        if value is not None and not scale.low <= value <= scale.high:
            raise CareError(name, f"Choose a rating from {scale.low} to {scale.high}.")
        if status == RatingStatus.ANSWERED and rater not in RATERS:
            raise CareError(f"{name}_rater", "Say who gave this rating.")
        if status != RatingStatus.ANSWERED and value is not None:
            raise CareError(name, "A rating cannot have both a value and a reason for none.")

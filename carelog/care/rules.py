"""The checks a session must pass before it is saved, each with the field to point at."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import current_app

from carelog.care.models import SessionContent
from carelog.care.vocabulary import RATERS, RATINGS, RatingStatus, scale_of
from carelog.errors import FieldError
from carelog.local_time import local_clock, local_date
from carelog.residents.models import Consent, Resident

CLOCK_SKEW = timedelta(minutes=2)
STOP_MESSAGE = (
    "Do not give a hand massage: {reasons}. Record it as declined, or as not done "
    "(deferred). A care manager can record a session given for a good reason."
)


class CareError(FieldError):
    """A session that cannot be saved as given, with the field to point at, in plain words."""


class PossibleRepeat(CareError):
    """A session of the same kind was recorded for this resident a short while before: the nurse
    is asked whether this is another one before it is saved."""

    def __init__(self, message: str, earlier_session_id: int):
        super().__init__("repeat_confirmed", message)
        self.earlier_session_id = earlier_session_id


def repeat_question(occurred_at: datetime, by_name: str, by_you: bool, outcome: str) -> str:
    """ "Already recorded at 13:05 by you: record another?", in the words for its kind."""
    kind = {"declined": "A decline was", "not_done": "A session not done was"}.get(
        outcome, "A session was"
    )
    who = "you" if by_you else by_name
    return f"{kind} already recorded at {local_clock(occurred_at)} by {who}: record another?"


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


def consent_standing(consent: Consent | None, day: date) -> str:
    """valid; refuses (the decision is no); none recorded; or review_overdue (the decision's
    review date has passed, so it no longer counts)."""
    if consent is None:
        return "none"
    if not consent.consent_given:
        return "refuses"
    if day > consent.review_on:
        return "review_overdue"
    return "valid" if consent.is_valid_on(day) else "none"


CONSENT_STOP_WORDS = {
    "none": "there is no valid consent",
    "refuses": "there is no valid consent (the resident does not consent)",
    "review_overdue": "there is no valid consent (its review is overdue)",
}


def reasons_to_stop(resident: Resident, day: date) -> list[str]:
    """Why no hand massage may be given on a day, in words: no valid consent, or sessions
    deferred. One rule for the board, the session form and the check at saving."""
    return reasons_to_stop_with(resident, resident.consent_on(day), day)


def reasons_to_stop_with(resident: Resident, consent: Consent | None, day: date) -> list[str]:
    """`reasons_to_stop`, for a caller that has already loaded the decision in force that day
    (the board loads one per resident rather than every resident's whole history)."""
    reasons = []
    standing = consent_standing(consent, day)
    if standing != "valid":
        reasons.append(CONSENT_STOP_WORDS[standing])
    if resident.deferred_on(day):
        reason = (
            f"sessions are deferred ({resident.defer_reason})"
            if resident.defer_reason
            else ("sessions are deferred")
        )
        if resident.defer_until:
            reason += f" until {resident.defer_until:%a %-d %b}"
        reasons.append(reason)
    return reasons


def usual_hands(resident: Resident, consent: Consent | None) -> str | None:
    """The hands the care plan and the consent allow: both, one, or none to suggest."""
    allowed = {"left", "right"}
    if resident.avoid_left_hand:
        allowed.discard("left")
    if resident.avoid_right_hand:
        allowed.discard("right")
    if consent and consent.scope_hands in ("left", "right"):
        allowed &= {consent.scope_hands}
    if allowed == {"left", "right"}:
        return "both"
    return next(iter(allowed), None)


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

"""The checks a session must pass before it is saved, each with the field to point at."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app

from carelog.care.vocabulary import GIVEN, RATERS, RATINGS, RatingStatus, scale_of
from carelog.errors import FieldError
from carelog.local_time import local
from carelog.residents.models import Resident

CLOCK_SKEW = timedelta(minutes=2)


class CareError(FieldError):
    """A session that cannot be saved as given, with the field to point at, in plain words."""


class SubmissionConflict(CareError):
    """The same one-time key came back with different content."""


def _check_timing(content: dict, now: datetime, resident: Resident) -> None:
    occurred = content["occurred_at"]
    if occurred > now + CLOCK_SKEW:
        raise CareError("occurred_at", "That time is in the future. Give the time it happened.")
    day = local(occurred).date()
    if day < resident.admitted_on:
        raise CareError("occurred_at", "That is before the resident was admitted.")
    if resident.departed_on and day > resident.departed_on:
        raise CareError("occurred_at", "The resident had left by then.")
    late_after = timedelta(hours=current_app.config["CARELOG_LATE_ENTRY_HOURS"])
    content["late"] = now - occurred > late_after
    if content["late"] and not content.get("note"):
        raise CareError(
            "note", "This is recorded long after it happened: add a note saying why it is late."
        )


def _check_precautions(content: dict, resident: Resident) -> None:
    """A given session needs confirmed precautions; overriding one needs a reason."""
    if content["outcome"] not in GIVEN:
        return
    if not content.get("precautions_confirmed"):
        raise CareError("precautions_confirmed", "Confirm you have read the precautions.")
    consent = resident.current_consent
    day = local(content["occurred_at"]).date()
    concerns = []
    if consent is None or not consent.is_valid_on(day):
        concerns.append("there is no valid consent")
    if resident.defer_sessions:
        concerns.append("sessions are deferred")
    hands = content.get("hands")
    if hands in ("left", "both") and resident.avoid_left_hand:
        concerns.append("the left hand is to be avoided")
    if hands in ("right", "both") and resident.avoid_right_hand:
        concerns.append("the right hand is to be avoided")
    if consent and hands and consent.scope_hands not in ("both", hands):
        concerns.append(f"consent covers the {consent.scope_hands} hand only")
    if resident.light_pressure_only and content.get("pressure") == "normal":
        concerns.append("light pressure only is advised")
    if concerns and not (content.get("override_reason") or "").strip():
        raise CareError(
            "override_reason",
            "Say why you went ahead although " + " and ".join(concerns) + ".",
        )


def _check_ratings(content: dict) -> None:
    for name in RATINGS:
        status = content.get(f"{name}_status")
        value = content.get(f"{name}_value")
        if status == RatingStatus.ANSWERED and value is None:
            raise CareError(name, "Choose a rating, or say why there is none.")
        scale = scale_of(name)
        low, high = scale.low, scale.high
        if value is not None and not low <= value <= high:
            raise CareError(name, f"Choose a rating from {low} to {high}.")
        if status == RatingStatus.ANSWERED and content.get(f"{name}_rater") not in RATERS:
            raise CareError(f"{name}_rater", "Say who gave this rating.")
        if status != RatingStatus.ANSWERED and value is not None:
            raise CareError(name, "A rating cannot have both a value and a reason for none.")

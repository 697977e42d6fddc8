"""From stored records to the plain rows of a report: sessions, ratings, sleep, consent."""

from __future__ import annotations

from datetime import date, timedelta
from typing import cast

from carelog.care.models import CareSessionVersion
from carelog.care.vocabulary import ABSENCE_WORDS, OBSERVATIONS
from carelog.local_time import local
from carelog.reports import document as rm
from carelog.reports.month import Month
from carelog.residents.models import Consent, Resident


def planned_sessions(resident: Resident, month: Month) -> int:
    """The weekly target spread over the days the resident was in the home that month."""
    first = max(month.first_day, resident.admitted_on)
    last = min(month.last_day, resident.departed_on or month.last_day)
    days = (last - first).days + 1
    return max(0, round(resident.sessions_per_week * days / 7)) if days > 0 else 0


def rating_of(version: CareSessionVersion, name: str) -> rm.Rating:
    value, status, rater = version.rating(name)
    if status == "answered":
        return rm.Rating(value=value, rater=cast(rm.Rater, rater or "self"))
    return rm.Rating(absence=cast(rm.Absence, status if status in ABSENCE_WORDS else "missing"))


def session_row(
    version: CareSessionVersion, recorder: str, corrected: bool, names
) -> rm.SessionRow:
    observations = tuple(
        rm.Observation(
            kind=cast(rm.ObservationKind, kind),
            action_taken=version.observation_action or "",
            told=version.observation_told or "",
        )
        for kind in version.observation_list
        if kind in OBSERVATIONS
    )
    return rm.SessionRow(
        start=local(version.occurred_at).replace(tzinfo=None),
        given_by=names.get(version.given_by_id, ""),
        outcome=cast(rm.Outcome, version.outcome),
        duration_min=version.duration_minutes or 0,
        hands=cast(rm.Hands | None, version.hands),
        pressure=cast(rm.Pressure | None, version.pressure),
        product=version.product or "",
        assent=cast(rm.Assent | None, version.assent),
        not_done_reason=cast(rm.NotDoneReason | None, version.not_done_reason),
        outcome_reason=version.outcome_reason or "",
        relaxation_before=rating_of(version, "relaxation_before"),
        relaxation_after=rating_of(version, "relaxation_after"),
        mood_before=rating_of(version, "mood_before"),
        mood_after=rating_of(version, "mood_after"),
        sleep_before=rating_of(version, "sleep_before"),
        sleep_after=rating_of(version, "sleep_after"),
        late=version.late,
        corrected=corrected,
        voided=version.voided,
        observations=observations,
        note=version.note or "",
        recorded_by=recorder,
        entry_ref=f"S{version.session_id}",
    )


def sleep_nights(resident: Resident, month: Month, rows) -> tuple[rm.SleepNight, ...]:
    """Sleep per night of the month: the night after a session, else the night before one."""
    after: dict[date, int] = {}
    before: dict[date, int] = {}
    massage_days: set[date] = set()
    for version, _ in rows:
        if version.voided:
            continue
        day = local(version.occurred_at).date()
        if version.given:
            massage_days.add(day)
            if version.sleep_after_value is not None:
                after[day] = version.sleep_after_value
        if version.sleep_before_value is not None:
            before[day - timedelta(days=1)] = version.sleep_before_value
    nights = []
    day = max(month.first_day, resident.admitted_on)
    last = min(month.last_day, resident.departed_on or month.last_day)
    while day <= last:
        value = after.get(day, before.get(day))
        nights.append(rm.SleepNight(day, value, day in massage_days))
        day += timedelta(days=1)
    return tuple(nights)


def consent_of(resident: Resident) -> rm.Consent | None:
    consent: Consent | None = resident.current_consent
    if consent is None:
        return None
    scope = (
        f"{consent.scope_hands} hands"
        if consent.scope_hands == "both"
        else (f"{consent.scope_hands} hand only")
    )
    if consent.scope_products:
        scope += f"; {consent.scope_products}"
    if not consent.consent_given:
        scope = "DOES NOT CONSENT. " + scope
    return rm.Consent(
        basis=cast(rm.ConsentBasis, consent.decided_by),
        decided_by=consent.decision_maker or "",
        decided_on=consent.decided_on,
        review_on=consent.review_on,
        scope=scope,
    )


def precautions_of(resident: Resident) -> rm.Precautions:
    labels = [
        label
        for flag, label in (
            (resident.defer_sessions, "Defer sessions"),
            (resident.avoid_left_hand, "Avoid left hand"),
            (resident.avoid_right_hand, "Avoid right hand"),
            (resident.light_pressure_only, "Light pressure only"),
        )
        if flag
    ]
    if resident.allergies:
        labels.append(f"Allergy: {resident.allergies}")
    return rm.Precautions(tuple(labels), resident.precaution_notes or "")

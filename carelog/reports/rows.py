"""From stored records to the plain rows of a report: sessions, ratings, sleep, consent."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import cast

from carelog.care.models import CareSessionVersion
from carelog.care.vocabulary import ABSENCE_WORDS, OBSERVATIONS
from carelog.local_time import local
from carelog.reports import document as rm
from carelog.reports.month import Month
from carelog.reports.sleep_rule import counted_sleep
from carelog.reports.span import Span
from carelog.residents.history import FACT_LABELS
from carelog.residents.models import Consent, Resident
from carelog.residents.plan import coded_words


def rating_of(version: CareSessionVersion, name: str) -> rm.Rating:
    value, status, rater = version.rating(name)
    if status == "answered":
        return rm.Rating(value=value, rater=cast(rm.Rater, rater or "self"))
    if not status:  # never asked (a decline, a not-done): printed "–", counted missing if given
        return rm.Rating()
    return rm.Rating(absence=cast(rm.Absence, status if status in ABSENCE_WORDS else "missing"))


def session_row(
    version: CareSessionVersion,
    recorder: str,
    corrected: bool,
    names,
    recorded_at: datetime | None = None,
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
        override_reason=version.override_reason or "",
        precautions_confirmed=version.precautions_confirmed,
        recorded_at=local(recorded_at).replace(tzinfo=None) if recorded_at else None,
    )


def sleep_nights(
    resident: Resident, month: Month | Span, rows, until: date | None = None, next_first=()
) -> tuple[rm.SleepNight, ...]:
    """Sleep per night of the month (or span), by SLEEP_RULE. `next_first` are sessions on the
    day after: their before-rating rates the last night."""
    after: dict[date, list[int]] = {}
    before: dict[date, list[int]] = {}
    massage_days: set[date] = set()
    for version, _ in [*rows, *next_first]:
        if version.voided:
            continue
        day = local(version.occurred_at).date()
        if version.given:
            massage_days.add(day)
            if version.sleep_after_value is not None:
                after.setdefault(day, []).append(version.sleep_after_value)
        if version.sleep_before_value is not None:
            before.setdefault(day - timedelta(days=1), []).append(version.sleep_before_value)
    nights = []
    day = max(month.first_day, resident.admitted_on)
    tonight = until or month.last_day + timedelta(days=1)  # tonight's sleep is not known yet
    last = min(month.last_day, resident.departed_on or month.last_day, tonight - timedelta(days=1))
    while day <= last:
        value, conflict = counted_sleep(after.get(day) or before.get(day) or [])
        nights.append(rm.SleepNight(day, value, day in massage_days, conflict))
        day += timedelta(days=1)
    return tuple(nights)


def consent_for_month(resident: Resident, month: Month) -> rm.Consent | None:
    """The consent in force when the month (or the stay) began, else the first made in it."""
    start = max(month.first_day, resident.admitted_on)
    in_month = sorted(
        (c for c in resident.consents if start < c.decided_on <= month.last_day),
        key=lambda c: (c.decided_on, c.id),
    )
    chosen = resident.consent_on(start) or (in_month[0] if in_month else None)
    return consent_of(chosen)


def consent_changes(resident: Resident, month: Month) -> list[rm.FactChange]:
    """Consent decisions that took effect during the month, after the one in force at its start."""
    start = max(month.first_day, resident.admitted_on)
    opening = resident.consent_on(start)
    changes = []
    for consent in sorted(resident.consents, key=lambda c: (c.decided_on, c.id)):
        if start <= consent.decided_on <= month.last_day and consent is not opening:
            shown = consent_of(consent)
            assert shown is not None
            changes.append(rm.FactChange(consent.decided_on, f"Consent: {shown.decision}"))
    return changes


def consent_of(consent: Consent | None) -> rm.Consent | None:
    if consent is None:
        return None
    scope = (
        f"{consent.scope_hands} hands"
        if consent.scope_hands == "both"
        else (f"{consent.scope_hands} hand only")
    )
    if consent.scope_products:
        scope += f"; {consent.scope_products}"
    return rm.Consent(
        basis=cast(rm.ConsentBasis, consent.decided_by),
        decided_by=consent.decision_maker or "",
        decided_on=consent.decided_on,
        review_on=consent.review_on,
        scope=scope,
        given=consent.consent_given,
    )


def _deferral_label(facts: dict) -> str:
    label = "Defer sessions"
    if facts.get("defer_reason"):
        label += f" ({facts['defer_reason']})"
    if facts.get("defer_until"):
        label += f" until {facts['defer_until']:%-d %b %Y}"
    return label


def precautions_of(facts: dict) -> rm.Precautions:
    """The precautions in a record as it stood (a resident_version's values)."""
    labels = [
        label
        for flag, label in (
            (facts.get("defer_sessions"), _deferral_label(facts)),
            (facts.get("avoid_left_hand"), "Avoid left hand"),
            (facts.get("avoid_right_hand"), "Avoid right hand"),
            (facts.get("light_pressure_only"), "Light pressure only"),
        )
        if flag
    ]
    if facts.get("allergies"):
        labels.append(f"Allergy: {facts['allergies']}")
    return rm.Precautions(tuple(labels), facts.get("precaution_notes") or "")


def fact_change(day: date, changed: dict, reason: str | None, ward_names: dict) -> rm.FactChange:
    """One version's changes in words: "Room: R03 → R10; Light pressure only: no → yes"."""

    def shown(key: str, value) -> str:
        if (words := coded_words(key, value)) is not None:
            return words
        if key == "ward_id":
            return ward_names.get(value, "?")
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, date):
            return value.strftime("%-d %b %Y")
        return "none" if value in (None, "") else str(value)

    parts = [
        f"{FACT_LABELS[key]}: {shown(key, old)} → {shown(key, new)}"
        for key, (old, new) in changed.items()
    ]
    return rm.FactChange(day, "; ".join(parts), reason or "")

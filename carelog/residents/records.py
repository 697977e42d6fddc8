"""Use cases for residents: admission, updates, departure and consent, each audited."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from carelog.audit import chain
from carelog.audit.actor import Actor
from carelog.care.models import CareSession, CareSessionVersion
from carelog.care.queries import current_versions
from carelog.database import existing, write_transaction
from carelog.errors import FieldError
from carelog.extensions import db
from carelog.local_time import format_datetime, local_day_bounds, local_today
from carelog.residents.dates import (
    consent_date_problem,
    departure_date_problem,
    resident_date_problem,
)
from carelog.residents.models import Consent, Resident, ResidentVersion
from carelog.residents.plan import PLAN_FIELDS

RESIDENT_FIELDS = (
    "given_name",
    "family_name",
    "preferred_name",
    "room",
    "ward_id",
    "date_of_birth",
    "local_identifier",
    "admitted_on",
    "preferred_product",
    "sessions_per_week",
    "defer_sessions",
    "defer_reason",
    "defer_until",
    "avoid_left_hand",
    "avoid_right_hand",
    "light_pressure_only",
    "allergies",
    "precaution_notes",
    *PLAN_FIELDS,
)


class ResidentError(FieldError):
    """A change to a resident that cannot be made, in words for the care manager."""


def _clean(values: dict) -> dict:
    cleaned = {}
    for field in RESIDENT_FIELDS:
        if field in values:
            value = values[field]
            if isinstance(value, str):
                value = value.strip() or None
            cleaned[field] = value
    if "defer_sessions" in cleaned and not cleaned["defer_sessions"]:
        # A deferral lifted leaves no reason or end date behind to be misread later.
        cleaned["defer_reason"] = cleaned["defer_until"] = None
    return cleaned


def _deferral_problem(values: dict) -> FieldError | None:
    """A deferral says why, so the nurse at the bedside knows; its end date is optional."""
    if values.get("defer_sessions") and not values.get("defer_reason"):
        return FieldError("defer_reason", "Say why sessions are deferred.")
    return None


def _refuse_duplicate_identifier(session, identifier: str | None, resident_id: int | None) -> None:
    if not identifier:
        return
    # casefold in Python: SQLite's lower() only folds ASCII letters.
    wanted = identifier.casefold()
    others = session.execute(
        select(Resident.id, Resident.local_identifier).where(Resident.local_identifier.is_not(None))
    )
    for other_id, other in others:
        if other.casefold() == wanted and other_id != resident_id:
            raise ResidentError("local_identifier", "Another resident already has this identifier.")


def _refuse(problem: FieldError | None) -> None:
    if problem:
        raise ResidentError(problem.field, problem.message)


def keep_version(session, actor: Actor, resident: Resident, action: str, reason=None) -> None:
    """Add the record as it now stands to its history (resident_version)."""
    latest = session.scalar(
        select(func.max(ResidentVersion.version_no)).where(
            ResidentVersion.resident_id == resident.id
        )
    )
    session.add(
        ResidentVersion(
            resident_id=resident.id,
            version_no=(latest or 0) + 1,
            recorded_by_id=actor.user_id,
            action=action,
            reason=(reason or "").strip() or None,
            values=chain.snapshot(resident, exclude=("id", "created_at")),
        )
    )


def _refuse_sessions_after(session, resident_id: int, departed_on: date) -> None:
    """A departure cannot be dated before sessions that are recorded (and not voided)."""
    _, end_of_day = local_day_bounds(departed_on)
    later = session.scalars(
        current_versions()
        .where(CareSession.resident_id == resident_id, CareSessionVersion.occurred_at >= end_of_day)
        .order_by(CareSessionVersion.occurred_at)
    ).all()
    if later:
        shown = ", ".join(format_datetime(v.occurred_at) for v in later[:5])
        more = f" and {len(later) - 5} more" if len(later) > 5 else ""
        raise ResidentError(
            "departed_on",
            f"Sessions are recorded after this date ({shown}{more}). Check the date, or mark "
            "those sessions as entered in error first.",
        )


def admit(actor: Actor, values: dict) -> Resident:
    """Admit a resident to a ward."""
    values = _clean(values)
    _refuse(resident_date_problem(values, local_today()))
    _refuse(_deferral_problem(values))
    with write_transaction(db.session) as session:
        _refuse_duplicate_identifier(session, values.get("local_identifier"), None)
        resident = Resident(**values)
        session.add(resident)
        session.flush()
        keep_version(session, actor, resident, "admit")
        chain.record(
            session,
            actor,
            "resident.admit",
            "resident",
            resident.id,
            resident_id=resident.id,
            new=chain.snapshot(resident),
        )
    return resident


def update(actor: Actor, resident_id: int, values: dict, reason: str | None) -> Resident:
    """Change a resident's details or precautions; old values are kept in the trail."""
    values = _clean(values)
    with write_transaction(db.session) as session:
        _refuse_duplicate_identifier(session, values.get("local_identifier"), resident_id)
        resident = existing(session, Resident, resident_id)
        dates = {"date_of_birth": resident.date_of_birth, "admitted_on": resident.admitted_on}
        _refuse(resident_date_problem({**dates, **values}, local_today()))
        _refuse(_deferral_problem({"defer_reason": resident.defer_reason, **values}))
        old = chain.snapshot(resident)
        for field, value in values.items():
            setattr(resident, field, value)
        session.flush()
        before, after = chain.changed(old, chain.snapshot(resident))
        if after:
            keep_version(session, actor, resident, "update", reason)
            chain.record(
                session,
                actor,
                "resident.update",
                "resident",
                resident.id,
                resident_id=resident.id,
                old=before,
                new=after,
                reason=reason,
            )
    return resident


def record_departure(actor: Actor, resident_id: int, departed_on: date, reason: str) -> None:
    """Record the day a resident left and why; the record stays."""
    with write_transaction(db.session) as session:
        resident = existing(session, Resident, resident_id)
        _refuse(departure_date_problem(departed_on, resident.admitted_on, local_today()))
        _refuse_sessions_after(session, resident.id, departed_on)
        old = {"departed_on": resident.departed_on, "departure_reason": resident.departure_reason}
        resident.departed_on = departed_on
        resident.departure_reason = reason.strip()
        keep_version(session, actor, resident, "depart", reason)
        chain.record(
            session,
            actor,
            "resident.depart",
            "resident",
            resident.id,
            resident_id=resident.id,
            old={k: (v.isoformat() if isinstance(v, date) else v) for k, v in old.items()},
            new={"departed_on": departed_on.isoformat(), "departure_reason": reason.strip()},
            reason=reason.strip(),
        )


def record_consent(actor: Actor, resident_id: int, values: dict) -> Consent:
    """Add a consent decision; earlier ones stay in the history."""
    _refuse(consent_date_problem(values["decided_on"], values["review_on"], local_today()))
    with write_transaction(db.session) as session:
        consent = Consent(resident_id=resident_id, recorded_by_id=actor.user_id, **values)
        session.add(consent)
        session.flush()
        chain.record(
            session,
            actor,
            "consent.record",
            "consent",
            consent.id,
            resident_id=resident_id,
            new=chain.snapshot(consent),
        )
    return consent

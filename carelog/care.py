"""Use cases for massage sessions: record, record a decline or not-done, add next-morning sleep."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from carelog import audit
from carelog.audit import Actor
from carelog.care_records import (
    GIVEN,
    RATINGS,
    CareSession,
    CareSessionVersion,
    RatingStatus,
    VersionKind,
)
from carelog.database import utcnow, write_transaction
from carelog.display import local
from carelog.extensions import db
from carelog.models import Resident
from carelog.residents import current_consent

CLOCK_SKEW = timedelta(minutes=2)
RATERS = ("self", "observer")
SCALES = {"relaxation": (0, 10), "mood": (1, 5), "sleep": (0, 10)}  # higher is better on all
CONTENT_FIELDS = (
    "occurred_at",
    "duration_minutes",
    "given_by_id",
    "precautions_confirmed",
    "override_reason",
    "hands",
    "pressure",
    "product",
    "assent",
    "outcome",
    "outcome_reason",
    "not_done_reason",
    "observations",
    "observation_action",
    "observation_told",
    "note",
    *(f"{name}_{part}" for name in RATINGS for part in ("value", "status", "rater")),
)


class CareError(ValueError):
    """A session that cannot be saved as given, with the field to point at, in plain words."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class SubmissionConflict(CareError):
    """The same one-time key came back with different content."""


@dataclass(frozen=True)
class Saved:
    """A saved (or already saved) version; replay is True when the key had been used."""

    session_id: int
    version_no: int
    replay: bool = False


def content_digest(submitted: dict[str, Any]) -> str:
    """A fingerprint of what the client submitted, to tell a replay from a different entry."""
    canonical = json.dumps(submitted, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def version_digest(changes: dict, kind: VersionKind, reason: str | None) -> str:
    """The fingerprint of a follow-up, correction or void, for recognising its replay."""
    return content_digest({**changes, "kind": kind.value, "reason": reason})


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
    consent = current_consent(resident)
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
        low, high = SCALES[name.split("_")[0]]
        if value is not None and not low <= value <= high:
            raise CareError(name, f"Choose a rating from {low} to {high}.")
        if status == RatingStatus.ANSWERED and content.get(f"{name}_rater") not in RATERS:
            raise CareError(f"{name}_rater", "Say who gave this rating.")
        if status != RatingStatus.ANSWERED and value is not None:
            raise CareError(name, "A rating cannot have both a value and a reason for none.")


_SESSIONS = CareSession.__table__
_VERSIONS = CareSessionVersion.__table__
# Core statements for the hot path: the unit of work costs more than the two inserts themselves.
_BY_KEY = select(_VERSIONS.c.session_id, _VERSIONS.c.version_no, _VERSIONS.c.content_digest).where(
    _VERSIONS.c.submission_key == bindparam("key")
)


def _replay(session, key: str, digest: str) -> Saved | None:
    existing = session.execute(_BY_KEY, {"key": key}).first()
    if existing is None:
        return None
    if existing.content_digest != digest:
        raise SubmissionConflict(
            "submission_key",
            "This form was already saved with different answers. "
            "Open the resident again to record another session.",
        )
    return Saved(existing.session_id, existing.version_no, replay=True)


def record_session(
    actor: Actor,
    resident_id: int,
    key: str,
    content: dict,
    submitted: dict,
    now: datetime | None = None,
) -> Saved:
    """Save a new session (given, declined or not done) exactly once per submission key.

    A replay is recognised before the checks, so that a retry hours later gets the saved record
    back rather than a complaint that it is now late. The checks run before the write lock is
    taken, so that writers queue only for the inserts; a double tap that slips past the replay
    check meanwhile meets the unique submission key there, and is answered as a replay.
    `now` is the server clock; only the demo seeder passes one, to lay down past months.
    """
    content = dict(content)
    content["precautions_confirmed"] = bool(content.get("precautions_confirmed"))  # unsaid: no
    now = now or utcnow()
    # The resident is part of what was submitted: the same key for someone else is no replay.
    digest = content_digest({**submitted, "resident_id": resident_id})
    saved = _replay(db.session, key, digest)
    if saved:
        return saved
    resident = db.session.get(Resident, resident_id)
    if resident is None:
        raise CareError("resident", "There is no such resident.")
    _check_timing(content, now, resident)
    _check_ratings(content)
    _check_precautions(content, resident)
    try:
        return _insert_new(actor, resident_id, key, content, digest, now)
    except IntegrityError:
        # A concurrent request with the same key committed first: answer as a replay.
        db.session.rollback()
        saved = _replay(db.session, key, digest)
        if saved is None:
            raise
        return saved


def _insert_new(actor, resident_id, key, content, digest, now: datetime) -> Saved:
    with write_transaction(db.session) as session:
        session_id = session.execute(
            insert(_SESSIONS),
            {
                "resident_id": resident_id,
                "recorded_by_id": actor.user_id,
                "recorded_at": now,
                "current_version": 1,
            },
        ).inserted_primary_key[0]
        session.execute(
            insert(_VERSIONS),
            {
                "session_id": session_id,
                "version_no": 1,
                "kind": VersionKind.ORIGINAL.value,
                "submission_key": key,
                "content_digest": digest,
                "created_by_id": actor.user_id,
                "created_at": now,
                **content,
            },
        )
        audit.record(
            session,
            actor,
            "session.record",
            "care_session",
            session_id,
            resident_id=resident_id,
            new={"version": 1, "outcome": content["outcome"], "digest": digest},
        )
        return Saved(session_id, 1)


FREE_TEXT_FIELDS = frozenset(
    {"note", "outcome_reason", "override_reason", "observation_action", "observation_told"}
)


def without_free_text(values: dict) -> dict:
    """Audit payloads carry a digest of clinical free text, never the text itself."""
    return {
        key: (
            "sha256:" + hashlib.sha256(str(value).encode()).hexdigest()[:16]
            if key in FREE_TEXT_FIELDS and value
            else value
        )
        for key, value in values.items()
    }


def _copy_of_current(care_session: CareSession) -> dict:
    current = care_session.current
    return {field: getattr(current, field) for field in (*CONTENT_FIELDS, "late")}


def add_version(
    actor: Actor,
    session_id: int,
    key: str,
    kind: VersionKind,
    changes: dict,
    reason: str | None,
    expected_version: int,
    now: datetime | None = None,
    submitted: dict | None = None,
) -> Saved:
    """Add a version (follow-up, correction or void) on top of the current one.

    `submitted` is what the client sent, for recognising a replay (default: the changes).
    """
    with write_transaction(db.session) as session:
        care_session = session.get(CareSession, session_id)
        content = _copy_of_current(care_session)
        content.update(changes)
        digest = content_digest(submitted) if submitted else version_digest(changes, kind, reason)
        saved = _replay(session, key, digest)
        if saved:
            return saved
        if care_session.current_version != expected_version:
            raise CareError(
                "expected_version",
                "Someone else changed this entry while you were looking. "
                "Open it again to see the latest version.",
            )
        old = {k: v for k, v in _copy_of_current(care_session).items() if k in changes}
        new = {k: content[k] for k in changes}
        version_no = care_session.current_version + 1
        session.add(
            CareSessionVersion(
                session_id=session_id,
                version_no=version_no,
                kind=kind.value,
                reason=reason,
                submission_key=key,
                content_digest=digest,
                created_by_id=actor.user_id,
                created_at=now or utcnow(),
                **content,
            )
        )
        care_session.current_version = version_no
        session.flush()
        audit.record(
            session,
            actor,
            f"session.{kind.value}",
            "care_session",
            session_id,
            resident_id=care_session.resident_id,
            old={**without_free_text(old), "version": expected_version},
            new={**without_free_text(new), "version": version_no},
            reason=reason,
        )
        return Saved(session_id, version_no)


def record_sleep_after(
    actor: Actor,
    session_id: int,
    key: str,
    value: int | None,
    status: str,
    rater: str | None,
    expected_version: int,
    now: datetime | None = None,
) -> Saved:
    """Add the next morning's sleep rating to a session as a follow-up version."""
    changes = {"sleep_after_value": value, "sleep_after_status": status, "sleep_after_rater": rater}
    replay = _replay(db.session, key, version_digest(changes, VersionKind.FOLLOW_UP, None))
    if replay:
        return replay
    care_session = db.session.get(CareSession, session_id)
    if care_session is None or care_session.current.voided:
        raise CareError("session", "There is no such session.")
    if care_session.current.outcome not in GIVEN:
        raise CareError("session", "Sleep after a massage is only recorded for given sessions.")
    if care_session.current.sleep_after_status is not None:
        raise CareError("session", "Sleep for that night is already recorded.")
    _check_ratings({**changes})
    return add_version(
        actor, session_id, key, VersionKind.FOLLOW_UP, changes, None, expected_version, now
    )


def may_change(user, care_session: CareSession, now: datetime | None = None) -> bool:
    """Care managers may correct any entry; a nurse only their own, during their shift."""
    if user.role == "care_manager":
        return True
    if user.role != "nurse" or care_session.recorded_by_id != user.id:
        return False
    window = timedelta(hours=current_app.config["CARELOG_NURSE_CORRECTION_HOURS"])
    return (now or utcnow()) - care_session.recorded_at <= window


def _require_change_allowed(user, session_id: int) -> CareSession:
    care_session = db.session.get(CareSession, session_id)
    if care_session is None:
        raise CareError("session", "There is no such session.")
    if not may_change(user, care_session):
        raise PermissionError("only the care manager, or the nurse who recorded it that shift")
    if care_session.current.voided:
        raise CareError("reason", "This entry was marked entered in error; it cannot change.")
    return care_session


def correct_session(
    actor: Actor,
    user,
    session_id: int,
    key: str,
    changes: dict,
    reason: str,
    expected_version: int,
) -> Saved:
    """Record a correction as a new version; the original stays readable."""
    submitted = {**changes, "kind": VersionKind.CORRECTION.value, "reason": (reason or "").strip()}
    replay = _replay(db.session, key, content_digest(submitted))
    if replay:
        return replay
    care_session = _require_change_allowed(user, session_id)
    if not (reason or "").strip():
        raise CareError("reason", "Say why you are correcting this entry.")
    content = {**_copy_of_current(care_session), **changes}
    if content["occurred_at"] > utcnow() + CLOCK_SKEW:
        raise CareError("occurred_at", "That time is in the future. Give the time it happened.")
    _check_ratings(content)
    _check_precautions(content, care_session.resident)
    changed = {k: v for k, v in changes.items() if getattr(care_session.current, k) != v}
    if not changed:
        raise CareError("reason", "Nothing was changed, so there is nothing to correct.")
    return add_version(
        actor,
        session_id,
        key,
        VersionKind.CORRECTION,
        changed,
        reason.strip(),
        expected_version,
        submitted=submitted,
    )


def void_session(
    actor: Actor, user, session_id: int, key: str, reason: str, expected_version: int
) -> Saved:
    """Mark an entry as entered in error: it stays visible and leaves the statistics."""
    _require_change_allowed(user, session_id)
    if not (reason or "").strip():
        raise CareError("reason", "Say why this entry is in error.")
    return add_version(
        actor, session_id, key, VersionKind.VOID, {}, reason.strip(), expected_version
    )

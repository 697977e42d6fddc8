"""Versions on top of a saved session: next-morning sleep, corrections and voids, with a reason."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from flask import current_app

from carelog.accounts.roles import MANAGERS, Role
from carelog.audit import chain
from carelog.audit.actor import Actor
from carelog.care.fingerprints import content_digest, version_digest
from carelog.care.models import CareSession, CareSessionVersion, SessionContent, standing_at
from carelog.care.recording import Saved, SavedOffline, replay_of
from carelog.care.rules import (
    CareError,
    check_precautions,
    check_ratings,
    check_when,
)
from carelog.care.vocabulary import GIVEN, VersionKind
from carelog.database import utcnow, write_transaction
from carelog.extensions import db
from carelog.local_time import local_date


def add_version(
    actor: Actor,
    session_id: int,
    key: str,
    kind: VersionKind,
    changes: dict[str, Any],
    reason: str | None,
    expected_version: int,
    now: datetime | None = None,
    submitted: Mapping[str, Any] | None = None,
    offline: SavedOffline | None = None,
) -> Saved:
    """Add a version (follow-up, correction or void) on top of the current one.

    `submitted` is what the client sent, for recognising a replay (default: the changes);
    `offline`, when a tablet saved it with no connection and sent it later.
    """
    with write_transaction(db.session) as session:
        care_session = session.get(CareSession, session_id)
        if care_session is None:
            raise CareError("session", "There is no such session.")
        current = care_session.current
        content = SessionContent.from_columns(current).changed(**changes)
        digest = content_digest(submitted) if submitted else version_digest(changes, kind, reason)
        saved = replay_of(session, key, digest)
        if saved:
            return saved
        if care_session.current_version != expected_version:
            raise CareError(
                "expected_version",
                "Someone else changed this entry while you were looking. "
                "Open it again to see the latest version.",
            )
        old = {k: getattr(current, k) for k in changes}
        new: dict[str, Any] = {k: getattr(content, k) for k in changes}
        if offline:
            new["saved_on_tablet"] = offline.on_tablet_at.isoformat(timespec="seconds")
            new["sent_by"] = offline.sent_by_id
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
                saved_on_tablet_at=offline.on_tablet_at if offline else None,
                late=current.late,
                **content.columns(),
            )
        )
        for name, value in standing_at(version_no, kind.value, content.columns()).items():
            setattr(care_session, name, value)
        session.flush()
        chain.record(
            session,
            actor,
            f"session.{kind.value}",
            "care_session",
            session_id,
            resident_id=care_session.resident_id,
            old={**old, "version": expected_version},
            new={**new, "version": version_no},
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
    offline: SavedOffline | None = None,
) -> Saved:
    """Add the next morning's sleep rating to a session as a follow-up version; one saved on a
    tablet offline counts as asked when the tablet saved it."""
    changes = {"sleep_after_value": value, "sleep_after_status": status, "sleep_after_rater": rater}
    replay = replay_of(db.session, key, version_digest(changes, VersionKind.FOLLOW_UP, None))
    if replay:
        return replay
    care_session = db.session.get(CareSession, session_id)
    if care_session is None or care_session.current.voided:
        raise CareError("session", "There is no such session.")
    if care_session.current.outcome not in GIVEN:
        raise CareError("session", "Sleep after a massage is only recorded for given sessions.")
    if care_session.current.sleep_after_status is not None:
        raise CareError("session", "Sleep for that night is already recorded.")
    night = local_date(care_session.current.occurred_at)
    asked = offline.judged_at if offline else (now or utcnow())
    if local_date(asked) != night + timedelta(days=1):
        raise CareError(
            "session",
            f"This asks about the night of {night:%A %-d %B}: it can only be recorded as "
            '"last night" on the morning after.',
        )
    check_ratings(care_session.current_content.changed(**changes))
    return add_version(
        actor,
        session_id,
        key,
        VersionKind.FOLLOW_UP,
        changes,
        None,
        expected_version,
        now,
        offline=offline,
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
    changes: Mapping[str, Any],
    reason: str,
    expected_version: int,
) -> Saved:
    """Record a correction as a new version; the original stays readable.

    `changes` names the corrected fields (the correction form sends them all); only those that
    differ from the current version go into the new one.
    """
    submitted = {**changes, "kind": VersionKind.CORRECTION.value, "reason": (reason or "").strip()}
    replay = replay_of(db.session, key, content_digest(submitted))
    if replay:
        return replay
    care_session = _require_change_allowed(user, session_id)
    if not (reason or "").strip():
        raise CareError("reason", "Say why you are correcting this entry.")
    current = care_session.current_content
    corrected = current.changed(**changes)
    check_when(corrected, utcnow(), care_session.resident)
    check_ratings(corrected)
    check_precautions(corrected, care_session.resident, Role(user.role) in MANAGERS)
    changed = {name: value for name, value in changes.items() if getattr(current, name) != value}
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

"""Use cases for massage sessions: record, record a decline or not-done, add next-morning sleep."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from flask import current_app
from sqlalchemy import CursorResult, Table, bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from carelog.accounts.models import User
from carelog.accounts.roles import MANAGERS, Role
from carelog.audit import chain
from carelog.audit.actor import Actor
from carelog.care.fingerprints import content_digest
from carelog.care.models import CareSession, CareSessionVersion, SessionContent, standing_at
from carelog.care.queries import earlier_alike
from carelog.care.rules import (
    CareError,
    PossibleRepeat,
    SubmissionConflict,
    check_precautions,
    check_ratings,
    check_timing,
    repeat_question,
)
from carelog.care.vocabulary import VersionKind
from carelog.database import utcnow, write_transaction
from carelog.extensions import db
from carelog.residents.models import Resident


@dataclass(frozen=True)
class SavedOffline:
    """An entry a tablet saved offline and sent later: when the tablet says it saved it, and the
    time the late-entry rule judges by (that, kept within the nurse's sign-in and not after the
    server received it: a tablet's clock is not trusted beyond that)."""

    on_tablet_at: datetime
    judged_at: datetime
    sent_by_id: int | None = None


@dataclass(frozen=True)
class Saved:
    """A saved (or already saved) version; replay is True when the key had been used."""

    session_id: int
    version_no: int
    replay: bool = False


_SESSIONS = cast(Table, CareSession.__table__)


_VERSIONS = cast(Table, CareSessionVersion.__table__)


# Core statements for the hot path: the unit of work costs more than the two inserts themselves.
_BY_KEY = select(_VERSIONS.c.session_id, _VERSIONS.c.version_no, _VERSIONS.c.content_digest).where(
    _VERSIONS.c.submission_key == bindparam("key")
)


def replay_of(session, key: str, digest: str) -> Saved | None:
    existing = session.execute(_BY_KEY, {"key": key}).first()
    if existing is None:
        return None
    if existing.content_digest != digest:
        raise SubmissionConflict(
            "submission_key",
            "This form was already saved with different answers. The changed answers were not "
            "saved: open what was saved to check it, and correct it there if needed.",
            existing.session_id,
        )
    return Saved(existing.session_id, existing.version_no, replay=True)


def may_override_a_stop(actor: Actor) -> bool:
    """Only a care manager records a session given despite no consent or a deferral."""
    user = db.session.get(User, actor.user_id) if actor.user_id else None
    return user is not None and Role(user.role) in MANAGERS


def record_session(
    actor: Actor,
    resident_id: int,
    key: str,
    content: SessionContent,
    submitted: Mapping[str, Any],
    now: datetime | None = None,
    offline: SavedOffline | None = None,
) -> Saved:
    """Save a new session (given, declined or not done) exactly once per submission key.

    A replay is recognised before the checks, so that a retry hours later gets the saved record
    back rather than a complaint that it is now late. The checks run before the write lock is
    taken, so that writers queue only for the inserts; a double tap that slips past the replay
    check meanwhile meets the unique submission key there, and is answered as a replay.
    `now` is the server clock; only the demo seeder passes one, to lay down past months.
    An entry saved offline (`offline`) is judged late by when the tablet saved it.
    """
    now = now or utcnow()
    # The resident is part of what was submitted: the same key for someone else is no replay.
    digest = content_digest({**submitted, "resident_id": resident_id})
    saved = replay_of(db.session, key, digest)
    if saved:
        return saved
    resident = db.session.get(Resident, resident_id)
    if resident is None:
        raise CareError("resident", "There is no such resident.")
    late = check_timing(content, offline.judged_at if offline else now, resident)
    check_ratings(content)
    check_precautions(content, resident, may_override_a_stop(actor))
    if not content.repeat_confirmed:
        try:
            _ask_about_a_repeat(actor, resident_id, content)
        except PossibleRepeat:
            # The session found may be this very submission, committed by a concurrent
            # request with the same key since the check above: that is a replay.
            saved = replay_of(db.session, key, digest)
            if saved:
                return saved
            raise
    try:
        return _insert_new(actor, resident_id, key, content, late, digest, now, offline)
    except IntegrityError:
        # A concurrent request with the same key committed first: answer as a replay.
        db.session.rollback()
        saved = replay_of(db.session, key, digest)
        if saved is None:
            raise
        return saved


def _ask_about_a_repeat(actor: Actor, resident_id: int, content: SessionContent) -> None:
    """Beyond the one-time key: the same kind of session for the same resident a short while
    before (a form sent again from Back, or two nurses) is saved only once the nurse confirms."""
    window = timedelta(minutes=current_app.config["CARELOG_REPEAT_WINDOW_MINUTES"])
    found = earlier_alike(resident_id, content.occurred_at, content.outcome, window)
    if found:
        earlier, author = found
        question = repeat_question(
            earlier.occurred_at, author.full_name, author.id == actor.user_id, earlier.outcome
        )
        raise PossibleRepeat(question, earlier.session_id)


def _insert_new(
    actor: Actor,
    resident_id: int,
    key: str,
    content: SessionContent,
    late: bool,
    digest: str,
    now: datetime,
    offline: SavedOffline | None = None,
) -> Saved:
    noted: dict[str, Any] = {"version": 1, "outcome": content.outcome, "digest": digest}
    if offline:
        noted["saved_on_tablet"] = offline.on_tablet_at.isoformat(timespec="seconds")
        noted["sent_by"] = offline.sent_by_id
    with write_transaction(db.session) as session:
        inserted: CursorResult = session.execute(
            insert(_SESSIONS),
            {
                "resident_id": resident_id,
                "recorded_by_id": actor.user_id,
                "recorded_at": now,
                **standing_at(1, VersionKind.ORIGINAL.value, content.columns()),
            },
        )  # type: ignore[assignment]  # an INSERT answers with a CursorResult
        session_id = inserted.inserted_primary_key[0]  # type: ignore[index]
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
                "late": late,
                "saved_on_tablet_at": offline.on_tablet_at if offline else None,
                **content.columns(),
            },
        )
        chain.record(
            session,
            actor,
            "session.record",
            "care_session",
            session_id,
            resident_id=resident_id,
            new=noted,
        )
        return Saved(session_id, 1)

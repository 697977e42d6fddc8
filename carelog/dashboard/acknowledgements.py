"""A care manager acknowledges a session given despite a warning: once per version, audited."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from carelog.audit import chain
from carelog.audit.actor import Actor
from carelog.care.models import CareSession
from carelog.dashboard.models import OverrideAcknowledgement
from carelog.database import existing, write_transaction
from carelog.errors import FieldError
from carelog.extensions import db


@dataclass(frozen=True)
class Acknowledged:
    acknowledgement: OverrideAcknowledgement
    already: bool  # someone had acknowledged this version before: nothing was added


def acknowledge_override(actor: Actor, session_id: int, note: str | None = None) -> Acknowledged:
    """Record that a manager has read the override on the session's current version. A second
    acknowledgement of the same version adds nothing (two managers at once included); a version
    without an override is refused."""
    try:
        return _acknowledge(actor, session_id, note)
    except IntegrityError:  # another manager's acknowledgement won the race: theirs stands
        return _acknowledge(actor, session_id, note)


def _acknowledge(actor: Actor, session_id: int, note: str | None) -> Acknowledged:
    with write_transaction(db.session) as session:
        care_session = existing(session, CareSession, session_id)
        version = care_session.current
        if version.voided or not (version.override_reason or "").strip():
            raise FieldError(
                None, "This entry was not given despite a warning: nothing to acknowledge."
            )
        earlier = session.scalar(
            select(OverrideAcknowledgement).where(
                OverrideAcknowledgement.session_id == session_id,
                OverrideAcknowledgement.version_no == version.version_no,
            )
        )
        if earlier is not None:
            return Acknowledged(earlier, already=True)
        acknowledgement = OverrideAcknowledgement(
            session_id=session_id,
            version_no=version.version_no,
            acknowledged_by_id=actor.user_id,
            note=(note or "").strip() or None,
        )
        session.add(acknowledgement)
        session.flush()
        chain.record(
            session,
            actor,
            "session.override_acknowledged",
            "care_session",
            session_id,
            resident_id=care_session.resident_id,
            new={"version_no": version.version_no, "note": acknowledgement.note},
        )
    return Acknowledged(acknowledgement, already=False)

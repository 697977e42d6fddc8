"""The three entries a nurse makes at the bedside (a session, a decline, a not-done): which form
each is, and what it records. One place for the bedside pages and for entries sent later from
a tablet's outbox, so both are checked and saved alike."""

from __future__ import annotations

from datetime import datetime

from carelog.care.forms import DeclinedForm, NotDoneForm, SessionForm, session_content
from carelog.care.models import SessionContent
from carelog.care.vocabulary import Outcome
from carelog.database import utcnow

ENTRY_FORMS: dict[str, type] = {
    "session": SessionForm,
    "declined": DeclinedForm,
    "not_done": NotDoneForm,
}


def submitted(form) -> dict:
    """What the client sent, to recognise a replay of the same submission."""
    return {k: v for k, v in form.data.items() if k not in ("csrf_token", "submission_key")}


def entry_content(form, given_by_id: int, occurred_at: datetime | None = None) -> SessionContent:
    """What a valid entry form records. A decline or a not-done happened when it was saved:
    now, or for an entry saved offline, when the tablet saved it."""
    if isinstance(form, SessionForm):
        return session_content(form, given_by_id=given_by_id)
    when = (occurred_at or utcnow()).replace(microsecond=0)
    if isinstance(form, DeclinedForm):
        return SessionContent(
            repeat_confirmed=form.repeat_confirmed.data,
            occurred_at=when,
            given_by_id=given_by_id,
            assent="declined",
            outcome=Outcome.DECLINED.value,
            note=(form.decline_note.data or "").strip() or None,
        )
    return SessionContent(
        repeat_confirmed=form.repeat_confirmed.data,
        occurred_at=when,
        given_by_id=given_by_id,
        outcome=Outcome.NOT_DONE.value,
        outcome_reason=(form.other_reason.data or "").strip() or None,
        not_done_reason=form.not_done_reason.data,
    )

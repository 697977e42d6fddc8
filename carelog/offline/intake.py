"""Receiving an entry a tablet saved offline: open it, check who made it and when, and save it
through the same form and use case as the bedside page, exactly once.

What arrives is {"id": <the entry's one-time key>, "sealed": {...}}. Sealed inside is
{"payload": <JSON text>, "signature": <HMAC of that text with the sign-in's key>}, and the
payload names the nurse, her sign-in, the resident, the kind of entry, the form's fields and
when the tablet saved it. Whoever is signed in when it arrives plays no part in whose it is.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app, request
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from carelog.accounts.models import LoginSession, User
from carelog.accounts.roles import CARERS, Role
from carelog.audit.actor import Actor
from carelog.care import amendments, recording, rules
from carelog.care.entries import ENTRY_FORMS, entry_content, submitted
from carelog.care.forms import SleepFollowUpForm, rating_content
from carelog.care.models import CareSession
from carelog.database import utcnow
from carelog.extensions import db
from carelog.offline import keys
from carelog.offline.roster import sign_in_ends_at
from carelog.residents.models import Resident

MAX_FIELDS = 80
SLEEP = "sleep"  # next-morning sleep, added to yesterday's session


class Refused(Exception):
    """An entry that is not saved, with the status and the words the tablet shows for it."""

    def __init__(self, status: int, message: str, session_id: int | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.session_id = session_id
        # Set once the entry is known to be this nurse's: her answers may go back to her (only
        # to her) so that she can open the form with them and put it right.
        self.author_id: int | None = None
        self.answers: list[tuple[str, str]] = []


@dataclass(frozen=True)
class Entry:
    key: str
    user_id: int
    login_id: int
    resident_id: int
    session_id: int | None  # for next-morning sleep: the session it is about
    kind: str
    fields: MultiDict
    saved_at: datetime


def _opened(body: object) -> tuple[str, bytes, str]:
    """The outer key, the signed payload text and its signature; Refused if it does not open."""
    if not isinstance(body, dict) or not isinstance(body.get("id"), str):
        raise Refused(400, "This is not an entry from carelog's outbox.")
    try:
        plain = json.loads(keys.unseal(body.get("sealed")))
    except keys.Unreadable as error:
        raise Refused(400, f"The entry could not be opened: {error}.") from None
    except ValueError:
        raise Refused(400, "The entry opened but is not readable.") from None
    if not isinstance(plain, dict):
        raise Refused(400, "The entry opened but is not readable.")
    payload, signature = plain.get("payload"), plain.get("signature")
    if not isinstance(payload, str) or not isinstance(signature, str):
        raise Refused(400, "The entry is not signed.")
    try:
        return body["id"], payload.encode(), signature
    except UnicodeEncodeError:  # a lone surrogate: JSON allows "\ud800", UTF-8 does not
        raise Refused(400, "The entry is not readable text.") from None


LARGEST_ID = 2**31 - 1  # every id column's range on both databases


def _number(value: object, what: str, largest: int = LARGEST_ID) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= largest:
        raise Refused(400, f"The entry's {what} is not a number carelog knows.")
    return value


def _parsed(outer_key: str, payload: bytes) -> Entry:
    try:
        data = json.loads(payload)
        key = str(uuid.UUID(data["id"]))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise Refused(400, "The entry is not readable or has no key.") from None
    if key != outer_key:
        raise Refused(400, "The entry's key was changed after it was sealed.")
    if data.get("kind") not in (*ENTRY_FORMS, SLEEP):
        raise Refused(400, "The entry is not a session, a decline, a not-done or a sleep rating.")
    fields = data.get("fields")
    if (
        not isinstance(fields, list)
        or len(fields) > MAX_FIELDS
        or not all(
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
            for pair in fields
        )
    ):
        raise Refused(400, "The entry's answers are not readable.")
    saved_ms = _number(data.get("saved_at"), "time", largest=2**53)
    try:
        saved_at = datetime.fromtimestamp(saved_ms / 1000, UTC)
    except (OverflowError, ValueError, OSError):
        raise Refused(400, "The entry's time is not a time.") from None
    return Entry(
        key=key,
        user_id=_number(data.get("user"), "nurse"),
        login_id=_number(data.get("login"), "sign-in"),
        resident_id=_number(data.get("resident"), "resident"),
        session_id=_number(data.get("session"), "session") if data["kind"] == SLEEP else None,
        kind=data["kind"],
        fields=MultiDict(fields),
        saved_at=saved_at,
    )


def _author(entry: Entry, payload: bytes, signature: str) -> tuple[User, LoginSession]:
    """The nurse whose sign-in signed it; Refused unless the signature is hers."""
    login = db.session.get(LoginSession, entry.login_id)
    user = db.session.get(User, entry.user_id)
    if user is None or login is None or login.user_id != user.id:
        raise Refused(403, "The entry is signed for someone who has no sign-in here.")
    if not keys.signature_matches(login.token_hash, payload, signature):
        raise Refused(403, "The entry's signature does not match: it was changed on the tablet.")
    if Role(user.role) not in CARERS:
        raise Refused(403, f"{user.full_name} does not record sessions.")
    return user, login


def _judged_at(entry: Entry, login: LoginSession, received: datetime) -> datetime:
    """When the entry counts as made: the tablet's time, if it falls within the nurse's sign-in
    (give or take the clock bound), kept within the sign-in and not after it was received."""
    bound = timedelta(minutes=current_app.config["CARELOG_TABLET_CLOCK_MINUTES"])
    ended = min(login.ended_at or received, sign_in_ends_at(login), received)
    if not login.started_at - bound <= entry.saved_at <= ended + bound:
        raise Refused(
            422,
            "It was saved outside the nurse's sign-in on this tablet (is the tablet's clock "
            "right?). Nothing was saved: enter it again.",
        )
    return min(max(entry.saved_at, login.started_at), ended)


def _resident(entry: Entry, user: User) -> Resident:
    resident = db.session.get(Resident, entry.resident_id)
    if resident is None:
        raise Refused(404, "There is no such resident.")
    if user.role == Role.NURSE and resident.ward_id != user.ward_id:
        raise Refused(403, f"{resident.display_name} is not on {user.full_name}'s ward.")
    return resident


def _form(entry: Entry):
    if entry.kind == SLEEP:
        # The board's follow-up cards name their fields after the session (s12-sleep_after).
        prefix = f"s{entry.session_id}"
        named = any(name.startswith(prefix + "-") for name in entry.fields)
        form = SleepFollowUpForm(
            formdata=entry.fields, prefix=prefix if named else "", meta={"csrf": False}
        )
    else:
        form = ENTRY_FORMS[entry.kind](formdata=entry.fields, meta={"csrf": False})
    form.submission_key.data = entry.key
    if not form.validate():
        fields = [getattr(form, name, None) if name else None for name in form.errors]
        words = [
            f"{field.label.text if field else 'The form'}: {errors[0]}" if errors else ""
            for field, errors in zip(fields, form.errors.values(), strict=True)
        ]
        raise Refused(422, " ".join(w for w in words if w)[:500])
    return form


def _sleep(actor, entry: Entry, resident: Resident, form, received, offline) -> recording.Saved:
    """Next-morning sleep, for a session of the resident the entry names."""
    care_session = db.session.get(CareSession, entry.session_id)
    if care_session is None or care_session.resident_id != resident.id:
        raise Refused(404, "There is no such session for this resident.")
    rating = rating_content(form, "sleep_after")
    return amendments.record_sleep_after(
        actor,
        care_session.id,
        entry.key,
        rating["sleep_after_value"],
        rating["sleep_after_status"],
        rating["sleep_after_rater"],
        int(form.expected_version.data or 0),
        now=received,
        offline=offline,
    )


def receive(body: object) -> recording.Saved:
    """Save one entry from a tablet's outbox, or raise Refused with the words to show."""
    received = utcnow()
    outer_key, payload, signature = _opened(body)
    entry = _parsed(outer_key, payload)
    user, login = _author(entry, payload, signature)
    try:
        return _save(entry, user, login, received)
    except Refused as refusal:
        refusal.author_id = user.id
        refusal.answers = list(entry.fields.items(multi=True))
        raise


def _save(entry: Entry, user: User, login: LoginSession, received: datetime) -> recording.Saved:
    judged = _judged_at(entry, login, received)
    resident = _resident(entry, user)
    form = _form(entry)
    actor = Actor(
        user_id=user.id,
        name=user.username,
        ip=request.remote_addr,
        user_agent=request.headers.get("User-Agent", ""),
    )
    sender = current_user.id if current_user.is_authenticated else None
    offline = recording.SavedOffline(entry.saved_at, judged, sender)
    try:
        if entry.kind == SLEEP:
            return _sleep(actor, entry, resident, form, received, offline)
        return recording.record_session(
            actor,
            resident.id,
            entry.key,
            entry_content(form, given_by_id=user.id, occurred_at=judged),
            submitted(form),
            now=received,
            offline=offline,
        )
    except rules.SubmissionConflict as error:
        raise Refused(409, error.message, error.saved_session_id) from None
    except rules.PossibleRepeat as error:
        raise Refused(409, error.message) from None
    except rules.CareError as error:
        raise Refused(422, error.message) from None

"""The audit trail in plain words: each entry as a sentence with full names ("Niamh Byrne recorded
a massage given to Peggy (Margaret Hughes)"), and its old and new values field by field in the
words people use. The entry itself (its action code, ids and stored values) stays as it was: this
only reads it. An action without a sentence of its own is still shown, never hidden."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from carelog.accounts.models import User, Ward
from carelog.accounts.roles import Role
from carelog.audit.models import AuditEntry
from carelog.care.vocabulary import (
    GIVEN,
    Outcome,
)
from carelog.extensions import db
from carelog.residents.models import Resident

COMMAND_LINE = "The command line"
# Attempts whose author is not known: the trail says "Someone".
SOMEONE = frozenset(
    {"auth.sign_in_failed", "auth.throttled", "auth.pin_failed", "auth.pin_blocked"}
)


@dataclass(frozen=True)
class Names:
    """Who and what the entries on a page name, loaded once for the page."""

    users: dict[int, str]
    usernames: dict[str, str]
    residents: dict[int, str]
    wards: dict[int, str]

    def resident(self, resident_id: int | None) -> str:
        if resident_id is None:
            return "a resident"
        return self.residents.get(resident_id, f"resident {resident_id}")

    def user(self, user_id: Any) -> str:
        try:
            return self.users.get(int(user_id), f"account {user_id}")
        except (TypeError, ValueError):
            return "an account"

    def ward(self, ward_id: Any) -> str:
        try:
            return f"{self.wards[int(ward_id)]} ward"
        except (KeyError, TypeError, ValueError):
            return "the whole home"


def names_for(entries: Iterable[AuditEntry], residents: dict[int, str] | None = None) -> Names:
    """The names a page of entries needs, in three queries whatever its length (two when the
    page already has every resident's name, as the trail's filter does)."""
    entries = list(entries)
    resident_ids = {e.resident_id for e in entries if e.resident_id}
    users = db.session.execute(select(User.id, User.username, User.full_name)).all()
    if residents is None and resident_ids:
        residents = {
            r.id: r.known_as
            for r in db.session.scalars(select(Resident).where(Resident.id.in_(resident_ids)))
        }
    wards = dict(db.session.execute(select(Ward.id, Ward.name)).tuples().all())
    return Names(
        users={u.id: u.full_name for u in users},
        usernames={u.username: u.full_name for u in users},
        residents=residents or {},
        wards=wards,
    )


def who(entry: AuditEntry, names: Names) -> str:
    """The person who acted, by full name; the command line or a sign-in attempt otherwise."""
    if entry.actor_id is not None:
        return names.user(entry.actor_id)
    if entry.actor in names.usernames:
        return names.usernames[entry.actor]
    if entry.action in SOMEONE:
        return "Someone"
    return COMMAND_LINE if entry.actor in (None, "", "command-line", "demo-seed") else entry.actor


def sentence(entry: AuditEntry, names: Names) -> str:
    """The entry as one sentence, starting with who acted."""
    says = SENTENCES.get(entry.action)
    what = says(entry, names) if says else f"did {entry.action} on {entry.entity}"
    return f"{who(entry, names)} {what}"


def _month(entry: AuditEntry) -> str:
    month = (entry.new or {}).get("month")
    try:
        return date.fromisoformat(f"{month}-01").strftime("%B %Y")
    except (TypeError, ValueError):
        return "a"


def _session_recorded(entry: AuditEntry, names: Names) -> str:
    person = names.resident(entry.resident_id)
    outcome = (entry.new or {}).get("outcome")
    if outcome in GIVEN:
        return f"recorded a massage given to {person}"
    if outcome == Outcome.DECLINED:
        return f"recorded that {person} declined a massage"
    if outcome == Outcome.NOT_DONE:
        return f"recorded a massage not done for {person}"
    return f"recorded a session for {person}"


def _report(entry: AuditEntry, names: Names) -> str:
    new = entry.new or {}
    if new.get("kind") == "batch":
        scope = names.ward(new.get("ward_id"))
        return (
            f"printed the {_month(entry)} reports for {scope}, "
            f"including {names.resident(entry.resident_id)}"
        )
    return f"printed the {_month(entry)} report for {names.resident(entry.resident_id)}"


def _consent(entry: AuditEntry, names: Names) -> str:
    given = (entry.new or {}).get("consent_given")
    decision = ": consents" if given is True else ": does not consent" if given is False else ""
    return f"recorded a consent decision for {names.resident(entry.resident_id)}{decision}"


def _viewed(entry: AuditEntry, names: Names) -> str:
    page = (entry.new or {}).get("page")
    where = f" ({page})" if page else ""
    return f"opened the record of {names.resident(entry.resident_id)}{where}"


def _signed_out(entry: AuditEntry, names: Names) -> str:
    why = (entry.new or {}).get("why")
    return "signed out" + (f" ({why})" if why else "")


def _user_created(entry: AuditEntry, names: Names) -> str:
    new = entry.new or {}
    role = new.get("role")
    label = f", {Role(role).label.lower()}" if role in set(Role) else ""
    return f"created the account of {new.get('full_name') or names.user(entry.entity_id)}{label}"


def _ward(entry: AuditEntry, verb: str) -> str:
    return f"{verb} {(entry.new or {}).get('name', 'a')} ward"


def _tablet(entry: AuditEntry) -> str:
    name = (entry.new or {}).get("name") or (entry.new or {}).get("tablet")
    return f"the tablet {name}" if name else "a ward tablet"


def _from_whom(entry: AuditEntry, names: Names) -> str:
    before = (entry.new or {}).get("from_user_id")
    return f" from {names.user(before)}" if before else ""


SENTENCES: dict[str, Callable[[AuditEntry, Names], str]] = {
    "auth.sign_in": lambda e, n: "signed in",
    "auth.sign_out": _signed_out,
    "auth.sign_in_failed": lambda e, n: (
        "failed to sign in" + (f" as {n.user(e.entity_id)}" if e.entity_id else "")
    ),
    "auth.locked_out": lambda e, n: (
        f"locked the account of {n.user(e.entity_id)} after too many failed sign-ins"
    ),
    "auth.throttled": lambda e, n: (
        "was refused sign-in from one address for "
        f"{(e.new or {}).get('minutes', 'some')} minutes after too many failures"
    ),
    "auth.switch": lambda e, n: f"took over {_tablet(e)} by PIN" + _from_whom(e, n),
    "auth.pin_failed": lambda e, n: f"typed a wrong PIN for {n.user(e.entity_id)} on {_tablet(e)}",
    "auth.pin_blocked": lambda e, n: (
        f"stopped the PIN of {n.user(e.entity_id)} with too many wrong tries on {_tablet(e)}"
    ),
    "tablet.enrol": lambda e, n: f"enrolled {_tablet(e)} on {n.ward((e.new or {}).get('ward_id'))}",
    "tablet.revoke": lambda e, n: f"revoked {_tablet(e)}, signing out everyone on it",
    "session.record": _session_recorded,
    "session.follow_up": lambda e, n: (
        f"added how {n.resident(e.resident_id)} slept the night after a massage"
    ),
    "session.correction": lambda e, n: f"corrected a session of {n.resident(e.resident_id)}",
    "session.void": lambda e, n: (
        f"marked a session of {n.resident(e.resident_id)} as entered in error"
    ),
    "session.override_acknowledged": lambda e, n: (
        f"acknowledged a massage given to {n.resident(e.resident_id)} despite a warning"
    ),
    "resident.admit": lambda e, n: f"admitted {n.resident(e.resident_id)}",
    "resident.update": lambda e, n: f"changed the record of {n.resident(e.resident_id)}",
    "resident.photo": lambda e, n: (
        f"added a photo of {n.resident(e.resident_id)}"
        if (e.new or {}).get("photo_id")
        else f"took down the photo of {n.resident(e.resident_id)}"
    ),
    "cards.print": lambda e, n: f"printed the door cards of {n.ward(e.entity_id)}",
    "resident.depart": lambda e, n: f"recorded that {n.resident(e.resident_id)} left the home",
    "resident.view": _viewed,
    "consent.record": _consent,
    "report.download": _report,
    "report.batch": lambda e, n: (
        f"made the {_month(e)} reports for {n.ward((e.new or {}).get('ward_id'))}"
    ),
    "export.download": lambda e, n: (
        "exported sessions as a spreadsheet"
        + (f" for {n.resident(e.resident_id)}" if e.resident_id else "")
    ),
    "audit.export": lambda e, n: "exported the audit trail",
    "access.request": lambda e, n: f"asked for clinical access for {n.user(e.entity_id)}",
    "access.approve": lambda e, n: f"approved clinical access for {n.user(e.entity_id)}",
    "access.refuse": lambda e, n: f"refused clinical access for {n.user(e.entity_id)}",
    "user.create": _user_created,
    "user.update": lambda e, n: f"changed the account of {n.user(e.entity_id)}",
    "user.password": lambda e, n: (
        "chose a new password"
        if str(e.actor_id) == str(e.entity_id)
        else f"set a new password for {n.user(e.entity_id)}, to be replaced at their next sign-in"
    ),
    "user.pin": lambda e, n: "chose a new PIN for the quick switch on ward tablets",
    "user.unlock": lambda e, n: f"unlocked the account of {n.user(e.entity_id)}",
    "user.deactivate": lambda e, n: f"deactivated the account of {n.user(e.entity_id)}",
    "user.reactivate": lambda e, n: f"reactivated the account of {n.user(e.entity_id)}",
    "ward.create": lambda e, n: _ward(e, "created"),
    "ward.update": lambda e, n: _ward(e, "renamed a ward to"),
}


ACTION_LABELS = {
    "auth.sign_in": "Signed in",
    "auth.sign_out": "Signed out",
    "auth.sign_in_failed": "Sign-in failed",
    "auth.locked_out": "Account locked",
    "auth.throttled": "Sign-in refused (too many failures)",
    "auth.switch": "Switched nurse by PIN",
    "auth.pin_failed": "Wrong PIN",
    "auth.pin_blocked": "PIN stopped (too many wrong tries)",
    "tablet.enrol": "Tablet enrolled",
    "tablet.revoke": "Tablet revoked",
    "session.record": "Session recorded",
    "session.follow_up": "Next-morning sleep added",
    "session.correction": "Session corrected",
    "session.void": "Session marked as entered in error",
    "session.override_acknowledged": "Override acknowledged",
    "resident.admit": "Resident admitted",
    "resident.update": "Resident's record changed",
    "resident.photo": "Photo changed",
    "cards.print": "Door cards printed",
    "resident.depart": "Resident left",
    "resident.view": "Record opened",
    "consent.record": "Consent decision recorded",
    "report.download": "Report printed",
    "report.batch": "Ward reports made",
    "export.download": "Sessions exported",
    "audit.export": "Audit trail exported",
    "access.request": "Clinical access asked for",
    "access.approve": "Clinical access approved",
    "access.refuse": "Clinical access refused",
    "user.create": "Account created",
    "user.update": "Account changed",
    "user.password": "Password changed",
    "user.pin": "PIN chosen",
    "user.unlock": "Account unlocked",
    "user.deactivate": "Account deactivated",
    "user.reactivate": "Account reactivated",
    "ward.create": "Ward created",
    "ward.update": "Ward renamed",
}


def action_label(action: str) -> str:
    """An action as a filter lists it: "Session recorded", with the stored code for others."""
    return ACTION_LABELS.get(action, action)

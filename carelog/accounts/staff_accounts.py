"""Use cases for staff accounts and wards, and signing in and out with a lockout."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from carelog.accounts import access_requests, login_sessions, passwords, throttle
from carelog.accounts.models import User, Ward
from carelog.accounts.roles import Role
from carelog.audit import chain
from carelog.audit.actor import Actor
from carelog.database import existing, utcnow, write_transaction
from carelog.errors import FieldError
from carelog.extensions import db

# Sign-in state, not the account: the trail records sign-ins, locks and password changes itself.
ACCOUNT_FIELDS_HIDDEN = (
    "password_hash",
    "failed_sign_ins",
    "locked_until",
    "failures_counted_from",
    "must_choose_password",
    "pin_hash",
    "pin_failures",
)


class AccountError(FieldError):
    """A request about an account that cannot be carried out, in words for the admin."""


def _user_snapshot(user: User) -> dict:
    return chain.snapshot(user, exclude=ACCOUNT_FIELDS_HIDDEN)


def _refuse_duplicate_ward(session, name: str, ward_id: int | None = None) -> None:
    # casefold in Python: SQLite's lower() leaves accented capitals (Ż, Ø) alone.
    for other_id, other_name in session.execute(select(Ward.id, Ward.name)):
        if other_name.casefold() == name.casefold() and other_id != ward_id:
            raise AccountError("name", f"There is already a ward called {name}.")


def create_ward(actor: Actor, name: str) -> Ward:
    """Add a ward."""
    with write_transaction(db.session) as session:
        _refuse_duplicate_ward(session, name)
        ward = Ward(name=name)
        session.add(ward)
        session.flush()
        chain.record(session, actor, "ward.create", "ward", ward.id, new=chain.snapshot(ward))
    return ward


def rename_ward(actor: Actor, ward_id: int, name: str) -> None:
    """Rename a ward."""
    with write_transaction(db.session) as session:
        _refuse_duplicate_ward(session, name, ward_id)
        ward = existing(session, Ward, ward_id)
        old = chain.snapshot(ward)
        ward.name = name
        session.flush()
        before, after = chain.changed(old, chain.snapshot(ward))
        if after:  # renaming a ward to its own name changes nothing, and records nothing
            chain.record(session, actor, "ward.update", "ward", ward.id, old=before, new=after)


def _require_usable_password(password: str, username: str) -> None:
    problem = passwords.password_problem(password, username)
    if problem:
        raise AccountError("password", problem)


def create_user(
    actor: Actor,
    *,
    username: str,
    full_name: str,
    role: Role,
    password: str,
    ward_id: int | None = None,
    registration_number: str | None = None,
) -> User:
    """Create a staff account with a hashed password that meets the password rules."""
    username = username.strip().lower()
    _require_usable_password(password, username)
    with write_transaction(db.session) as session:
        if session.scalar(select(User.id).where(User.username == username)):
            raise AccountError("username", f"The username {username} is taken. Choose another.")
        user = User(
            username=username,
            full_name=full_name.strip(),
            role=Role(role).value,
            ward_id=ward_id,
            registration_number=registration_number or None,
            password_hash=passwords.hash_password(password),
            awaiting_approval=access_requests.needs_approval(actor, role),
            # Typed by an admin: its owner replaces it at first sign-in. Accounts made on the
            # server's command line are for whoever runs it, who knows their own password.
            must_choose_password=actor.user_id is not None,
        )
        session.add(user)
        session.flush()
        chain.record(session, actor, "user.create", "user", user.id, new=_user_snapshot(user))
        if user.awaiting_approval:
            access_requests.ask(session, actor, user, role, "new_account")
    return user


def update_user(actor: Actor, user_id: int, changes: dict, reason: str | None = None) -> User:
    """Change an account's name, role, ward or registration number.

    A new role with clinical access waits for someone else's approval (access_requests)."""
    with write_transaction(db.session) as session:
        user = existing(session, User, user_id)
        old = _user_snapshot(user)
        new_role = changes.get("role", user.role)
        if new_role != user.role:
            access_requests.refuse_losing_the_last_admin(session, user, new_role)
            if access_requests.needs_approval(actor, new_role):
                access_requests.ask(session, actor, user, new_role, "role_change")
            else:
                user.role = new_role
        for field in ("full_name", "ward_id", "registration_number"):
            if field in changes:
                setattr(user, field, changes[field])
        session.flush()
        before, after = chain.changed(old, _user_snapshot(user))
        if after:
            chain.record(
                session, actor, "user.update", "user", user.id, old=before, new=after, reason=reason
            )
    return user


def set_password(actor: Actor, user_id: int, password: str) -> None:
    """Give an account a new password (meeting the rules) and end its open sessions; one set
    by someone else must be replaced by its owner at the next sign-in."""
    with write_transaction(db.session) as session:
        user = existing(session, User, user_id)
        _require_usable_password(password, user.username)
        user.password_hash = passwords.hash_password(password)
        user.failed_sign_ins = 0
        user.locked_until = None
        user.must_choose_password = actor.user_id is not None and actor.user_id != user.id
        user.pin_hash = None  # a new password starts afresh: the owner chooses a new PIN too
        login_sessions.end_all_login_sessions(user.id, "password")
        chain.record(session, actor, "user.password", "user", user.id)


def choose_own_password(actor: Actor, password: str) -> None:
    """The signed-in user replaces a password someone else chose with one of their own."""
    with write_transaction(db.session) as session:
        user = existing(session, User, actor.user_id)
        _require_usable_password(password, user.username)
        if passwords.check_password(user.password_hash, password):
            raise AccountError(
                "password", "Choose a password different from the one you were given."
            )
        user.password_hash = passwords.hash_password(password)
        user.must_choose_password = False
        chain.record(session, actor, "user.password", "user", user.id, new={"by": "themselves"})


def set_active(actor: Actor, user_id: int, active: bool, reason: str) -> None:
    """Deactivate (ending every session) or reactivate an account; accounts are never deleted."""
    with write_transaction(db.session) as session:
        user = existing(session, User, user_id)
        if actor.user_id == user_id and not active:
            raise AccountError(None, "You cannot deactivate your own account.")
        if user.active == active:
            return
        if not active:
            access_requests.refuse_losing_the_last_admin(session, user, None)
        user.active = active
        if not active:
            login_sessions.end_all_login_sessions(user.id, "deactivated")
            user.pin_hash = None  # reactivated, the account starts again from its password
        action = "user.reactivate" if active else "user.deactivate"
        chain.record(
            session,
            actor,
            action,
            "user",
            user.id,
            old={"active": not active},
            new={"active": active},
            reason=reason,
        )


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt: the user and their session token, or neither."""

    user: User | None = None
    token: str | None = None
    wait: timedelta | None = None  # set when this client must wait before trying again
    awaiting_approval: bool = False  # the right password, for an account not yet approved
    locked_until: datetime | None = None  # the right password, for a locked account


def sign_in(
    username: str, password: str, where: Actor, tablet: tuple[int, str] | None = None
) -> SignIn:
    """Check a password, counting failures per account in the database and locking it out.

    A client throttled for too many failures is refused before any password is hashed."""
    username = username.strip().lower()
    config = current_app.config
    now = utcnow()
    wait = throttle.client_wait(db.session, where.ip, now)
    if wait is not None:
        db.session.rollback()  # end the read; nothing is written for a throttled attempt
        return SignIn(wait=wait)
    found = db.session.execute(
        select(User.id, User.password_hash).where(User.username == username)
    ).first()
    password_ok = passwords.check_password(found.password_hash if found else None, password)
    with write_transaction(db.session) as session:
        if not password_ok:
            _note_failure(session, where, username, now)
        if found is None:
            attempt = Actor(None, None, where.ip, where.user_agent)
            chain.record(
                session, attempt, "auth.sign_in_failed", "user", new={"username": username[:40]}
            )
            return SignIn()
        user = existing(session, User, found.id, populate_existing=True)
        actor = Actor(user.id, user.username, where.ip, where.user_agent)
        locked = user.locked_at(now)
        if password_ok and user.active and not locked and user.awaiting_approval:
            why = {"why": "awaiting_approval"}
            chain.record(session, actor, "auth.sign_in_failed", "user", user.id, new=why)
            return SignIn(awaiting_approval=True)
        if password_ok and user.active and not locked:
            user.failed_sign_ins = 0
            user.locked_until = None
            user.failures_counted_from = now
            user.pin_failures = 0  # the password sets a PIN blocked by wrong tries working again
            if passwords.needs_rehash(user.password_hash):
                user.password_hash = passwords.hash_password(password)
            token = login_sessions.start_login_session(user, tablet[0] if tablet else None)
            at_tablet = {"tablet_id": tablet[0], "tablet": tablet[1]} if tablet else None
            chain.record(session, actor, "auth.sign_in", "user", user.id, new=at_tablet)
            return SignIn(user, token)
        reason = "locked" if locked else ("inactive" if not user.active else "password")
        chain.record(session, actor, "auth.sign_in_failed", "user", user.id, new={"why": reason})
        if locked and password_ok and user.active:
            return SignIn(locked_until=user.locked_until)  # the right person: say why, and until
        if not locked:  # tries during a lock never count: the window starts when it ends
            window_start = now - timedelta(minutes=config["CARELOG_LOCKOUT_WINDOW_MINUTES"])
            since = max(window_start, user.failures_counted_from or window_start)
            user.failed_sign_ins = throttle.account_failures(session, username, since)
        if not locked and user.failed_sign_ins >= config["CARELOG_LOCKOUT_ATTEMPTS"]:
            user.locked_until = now + timedelta(minutes=config["CARELOG_LOCKOUT_MINUTES"])
            user.failures_counted_from = user.locked_until
            user.failed_sign_ins = 0
            chain.record(
                session,
                actor,
                "auth.locked_out",
                "user",
                user.id,
                new={"locked_until": user.locked_until.isoformat()},
            )
    return SignIn()


def _note_failure(session, where: Actor, username: str, now) -> None:
    if throttle.note_failure(session, where.ip, username, now):
        attempt = Actor(None, None, where.ip, where.user_agent)
        window = current_app.config["CARELOG_SIGN_IN_WINDOW_MINUTES"]
        chain.record(session, attempt, "auth.throttled", "client", new={"minutes": window})


def sign_out(actor: Actor, token: str, reason: str = "signed_out") -> None:
    """End the sign-in session on the server, so a copied cookie stops working."""
    with write_transaction(db.session) as session:
        login_sessions.end_login_session(token, reason)
        chain.record(session, actor, "auth.sign_out", "user", actor.user_id, new={"why": reason})

"""PINs for the quick switch on an enrolled tablet: the rules a PIN meets, who may switch on a
tablet, and the switch itself.

A PIN is a shortcut, not a password: it works only on an enrolled tablet of the nurse's own ward,
only for 12 hours after her last full sign-in on that very tablet, and only until 5 wrong tries,
after which the password alone opens the account again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from carelog.accounts import login_sessions, passwords
from carelog.accounts.models import LoginSession, User
from carelog.accounts.roles import CARERS
from carelog.audit import chain
from carelog.audit.actor import Actor
from carelog.database import existing, utcnow, write_transaction
from carelog.errors import FieldError
from carelog.extensions import db
from carelog.tablets.models import Tablet

PIN_LENGTHS = range(4, 7)
# The PINs people choose most (DataGenetics' study of 3.4 million) beyond runs and repeats.
COMMON_PINS = frozenset(
    {"1212", "1004", "2000", "6969", "1122", "1313", "2001", "1010", "2580", "5683", "0852",
     "121212", "112233", "654321", "123123", "696969", "159753", "147258", "520520", "000000"}
)  # fmt: skip


def pin_problem(pin: str) -> str | None:
    """Why a PIN may not be used, in words for the nurse choosing it; or None."""
    if not pin.isascii() or not pin.isdigit() or len(pin) not in PIN_LENGTHS:
        return "Use 4 to 6 digits."
    steps = {int(b) - int(a) for a, b in zip(pin, pin[1:], strict=False)}
    if len(set(pin)) == 1:
        return "A PIN of one digit repeated is too easy to guess. Choose another."
    if steps in ({1}, {-1}):
        return "A run of digits (like 1234) is too easy to guess. Choose another."
    if pin in COMMON_PINS or pin[: len(pin) // 2] * 2 == pin:
        return "This PIN is one of the most commonly used. Choose another."
    return None


def set_pin(actor: Actor, pin: str) -> None:
    """The signed-in carer chooses her PIN (after a full sign-in: the view checks it)."""
    problem = pin_problem(pin)
    if problem:
        raise FieldError("pin", problem)
    with write_transaction(db.session) as session:
        user = existing(session, User, actor.user_id)
        user.pin_hash = passwords.hash_password(pin)
        user.pin_failures = 0
        chain.record(session, actor, "user.pin", "user", user.id)


def _hours() -> timedelta:
    return timedelta(hours=current_app.config["CARELOG_PIN_HOURS"])


def who_may_switch(tablet: Tablet, now: datetime | None = None) -> list[User]:
    """The carers who can switch to themselves on this tablet now, by name: staff of its ward,
    active, with a PIN not blocked by wrong tries, and a full sign-in here within the hours."""
    now = now or utcnow()
    last_full = (
        select(LoginSession.user_id, func.max(LoginSession.started_at).label("at"))
        .where(LoginSession.tablet_id == tablet.id, LoginSession.method == "password")
        .group_by(LoginSession.user_id)
        .subquery()
    )
    found = db.session.scalars(
        select(User)
        .join(last_full, last_full.c.user_id == User.id)
        .where(
            last_full.c.at > now - _hours(),
            User.ward_id == tablet.ward_id,
            User.role.in_([str(role) for role in CARERS]),
            User.active.is_(True),
            User.awaiting_approval.is_(False),
            User.must_choose_password.is_(False),
            User.pin_hash.is_not(None),
            User.pin_failures < current_app.config["CARELOG_PIN_ATTEMPTS"],
        )
        .order_by(User.full_name)
    )
    return [user for user in found if not user.locked_at(now)]


@dataclass(frozen=True)
class Switch:
    """The outcome of a switch: the new user and their session token, or why not."""

    user: User | None = None
    token: str | None = None
    problem: str | None = None
    tries_left: int | None = None


NOT_HERE = (
    "{name} cannot switch by PIN on this tablet now: sign in with your password "
    "(a PIN works for 12 hours after your last full sign-in here)."
)
TOO_MANY = "Too many wrong PINs. Sign in with your password; it sets your PIN working again."


def switch(tablet: Tablet, user_id: int, pin: str, where: Actor, ending: str | None) -> Switch:
    """Switch the tablet to another carer by her PIN, ending the session of whoever had it."""
    now = utcnow()
    user = next((u for u in who_may_switch(tablet, now) if u.id == user_id), None)
    if user is None:
        named = db.session.get(User, user_id)
        return Switch(problem=NOT_HERE.format(name=named.full_name if named else "This person"))
    pin_ok = passwords.check_password(user.pin_hash, pin)
    actor = Actor(user.id, user.username, where.ip, where.user_agent)
    limit = current_app.config["CARELOG_PIN_ATTEMPTS"]
    with write_transaction(db.session) as session:
        user = existing(session, User, user.id, populate_existing=True)
        at_tablet = {"tablet_id": tablet.id, "tablet": tablet.name}
        if not pin_ok:
            user.pin_failures += 1
            chain.record(session, actor, "auth.pin_failed", "user", user.id, new=at_tablet)
            left = limit - user.pin_failures
            return Switch(problem=TOO_MANY if left <= 0 else "Wrong PIN.", tries_left=max(left, 0))
        user.pin_failures = 0
        if ending:
            login_sessions.end_login_session(ending, "switched")
        token = login_sessions.start_login_session(user, tablet_id=tablet.id, method="pin")
        tablet.last_seen_at = now
        chain.record(
            session,
            actor,
            "auth.switch",
            "user",
            user.id,
            new={**at_tablet, "from_user_id": where.user_id},
        )
    return Switch(user, token)

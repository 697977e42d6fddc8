"""PINs for the quick switch on an enrolled tablet: the rules a PIN meets, who may switch on a
tablet, and the switch itself.

A PIN is a shortcut, not a password: it works only on an enrolled tablet of the nurse's own ward,
only for 12 hours after her last full sign-in on that very tablet, and only until 5 wrong tries,
after which the password alone opens the account again."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from carelog.accounts import login_sessions, passwords, throttle
from carelog.accounts.models import LoginSession, User
from carelog.accounts.roles import NURSES
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


def set_pin(actor: Actor, password: str, pin: str) -> None:
    """The signed-in nurse chooses her PIN, confirming with her password (someone finding her
    tablet unattended cannot choose one for her)."""
    problem = pin_problem(pin)
    if problem:
        raise FieldError("pin", problem)
    with write_transaction(db.session) as session:
        user = existing(session, User, actor.user_id)
        if not passwords.check_password(user.password_hash, password):
            raise FieldError("password", "That is not your password.")
        user.pin_hash = passwords.hash_password(pin)
        user.pin_failures = 0
        chain.record(session, actor, "user.pin", "user", user.id)


def _hours() -> timedelta:
    return timedelta(hours=current_app.config["CARELOG_PIN_HOURS"])


def who_may_switch(tablet: Tablet, now: datetime | None = None) -> list[User]:
    """The nurses who can switch to themselves on this tablet now, by name: staff of its ward,
    active, with a PIN not blocked by wrong tries, and a full sign-in here within the hours.
    Care managers sign in with their password: a PIN would open their powers too."""
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
            User.role.in_([str(role) for role in NURSES]),
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
    "That name cannot switch by PIN on this tablet now: sign in with your password "
    "(a PIN works for {hours} hours after your last full sign-in here)."
)
TOO_MANY = "Too many wrong PINs. Sign in with your password; it sets your PIN working again."
TABLET_WAIT = (
    "Too many wrong PINs on this tablet. Sign in with your password, or wait {minutes} minutes."
)


def _tablet_client(tablet: Tablet) -> str:
    return f"tablet:{tablet.id}"


def last_full_sign_in(tablet_id: int, user_id: int) -> datetime | None:
    """When the nurse last signed in with her password on this tablet."""
    return db.session.scalar(
        select(func.max(LoginSession.started_at)).where(
            LoginSession.tablet_id == tablet_id,
            LoginSession.user_id == user_id,
            LoginSession.method == "password",
        )
    )


def switch(tablet: Tablet, user_id: int, pin: str, where: Actor, ending: str | None) -> Switch:
    """Switch the tablet to another nurse by her PIN, ending the session of whoever had it.

    The account's row is locked and every rule read again inside the transaction, so that two
    tries at once cannot both pass under the limit. Wrong PINs count for the account (until
    her next password sign-in) and for the tablet (its window, like a sign-in address)."""
    now = utcnow()
    config = current_app.config
    wait = throttle.client_wait(db.session, _tablet_client(tablet), now)
    if wait is not None:
        minutes = max(1, math.ceil(wait.total_seconds() / 60))
        return Switch(problem=TABLET_WAIT.format(minutes=minutes))
    if not any(u.id == user_id for u in who_may_switch(tablet, now)):
        return Switch(problem=NOT_HERE.format(hours=config["CARELOG_PIN_HOURS"]))
    limit = config["CARELOG_PIN_ATTEMPTS"]
    with write_transaction(db.session) as session:
        user = session.scalars(
            select(User)
            .where(User.id == user_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one()
        current = session.get(Tablet, tablet.id, populate_existing=True)
        if current is None or current.revoked or user.pin_hash is None:
            return Switch(problem=NOT_HERE.format(hours=config["CARELOG_PIN_HOURS"]))
        if user.pin_failures >= limit:
            return Switch(problem=TOO_MANY, tries_left=0)
        at_tablet = {"tablet_id": tablet.id, "tablet": tablet.name}
        if not passwords.check_password(user.pin_hash, pin):
            user.pin_failures += 1
            throttle.note_failure(session, _tablet_client(tablet), f"pin:{user.username}", now)
            # Whoever typed it is not known (not whoever is signed in on the tablet): the trail
            # says "someone", for this nurse's account, on this tablet.
            typed = Actor(None, None, where.ip, where.user_agent)
            chain.record(session, typed, "auth.pin_failed", "user", user.id, new=at_tablet)
            left = limit - user.pin_failures
            if left <= 0:
                chain.record(session, typed, "auth.pin_blocked", "user", user.id, new=at_tablet)
            return Switch(problem=TOO_MANY if left <= 0 else "Wrong PIN.", tries_left=max(left, 0))
        if ending:
            login_sessions.end_login_session(ending, "switched")
        full = last_full_sign_in(tablet.id, user.id)
        ends_at = full + timedelta(hours=config["CARELOG_PIN_HOURS"]) if full else now
        token = login_sessions.start_login_session(
            user, tablet_id=tablet.id, method="pin", ends_at=ends_at
        )
        current.last_seen_at = now
        actor = Actor(user.id, user.username, where.ip, where.user_agent)
        chain.record(
            session,
            actor,
            "auth.switch",
            "user",
            user.id,
            new={**at_tablet, "from_user_id": where.user_id},
        )
    return Switch(user, token)

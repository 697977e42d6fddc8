"""Lockouts for too many failed sign-ins: who is locked now, and ending a lock with a reason.
(Counting the failures and locking is part of signing in, in staff_accounts.)"""

from __future__ import annotations

from sqlalchemy import select

from carelog.accounts.models import User
from carelog.accounts.staff_accounts import AccountError
from carelog.audit import chain
from carelog.audit.actor import Actor
from carelog.database import existing, utcnow, write_transaction
from carelog.extensions import db


def locked_accounts() -> list[User]:
    """Active staff locked out now for too many failed sign-ins, for whoever may unlock them."""
    return list(
        db.session.scalars(
            select(User).where(User.active, User.locked_until > utcnow()).order_by(User.full_name)
        )
    )


def unlock(actor: Actor, user_id: int, reason: str) -> None:
    """End an account's lockout now, with a reason; earlier failures no longer count."""
    with write_transaction(db.session) as session:
        user = existing(session, User, user_id)
        now = utcnow()
        if not user.locked_at(now):
            raise AccountError(None, "This account is not locked.")
        was = user.locked_until
        user.locked_until = None
        user.failed_sign_ins = 0
        user.failures_counted_from = now
        chain.record(
            session,
            actor,
            "user.unlock",
            "user",
            user.id,
            old={"locked_until": was.isoformat() if was else None},
            new={"locked_until": None},
            reason=reason.strip(),
        )

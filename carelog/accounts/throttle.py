"""Sign-in throttling per client address, in the database so every gunicorn worker sees it.

Flask-Limiter keeps its counters in memory (one per worker) or in Redis, Memcached or MongoDB,
none of which a home's single server runs; the database carelog already has holds across
workers. A client that has failed CARELOG_SIGN_IN_CLIENT_LIMIT times within the window is
refused before any password is hashed, so a flood costs one indexed count per request and the
nurses' pages stay quick. Per account, the lockout in staff_accounts still applies.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, scoped_session

from carelog.accounts.models import SignInFailure

KEPT_FOR = timedelta(days=1)


def _window() -> timedelta:
    return timedelta(minutes=current_app.config["CARELOG_SIGN_IN_WINDOW_MINUTES"])


def client_wait(
    session: Session | scoped_session, client: str | None, now: datetime
) -> timedelta | None:
    """How long this client must wait before trying again, or None if it may try now."""
    if not client:
        return None
    limit = current_app.config["CARELOG_SIGN_IN_CLIENT_LIMIT"]
    since = now - _window()
    recent = session.scalars(
        select(SignInFailure.at)
        .where(SignInFailure.client == client, SignInFailure.at > since)
        .order_by(SignInFailure.at.desc())
        .limit(limit)
    ).all()
    if len(recent) < limit:
        return None
    return recent[-1] + _window() - now  # when the oldest of the last `limit` leaves the window


def note_failure(session: Session, client: str | None, username: str, now: datetime) -> bool:
    """Count a failure (for the account too); True if it is the one that brings this client to
    its limit."""
    session.add(SignInFailure(at=now, client=client or "", username=username[:40]))
    session.execute(delete(SignInFailure).where(SignInFailure.at < now - KEPT_FOR))
    session.flush()
    if not client:
        return False
    since = now - _window()
    count = session.scalar(
        select(func.count())
        .select_from(SignInFailure)
        .where(SignInFailure.client == client, SignInFailure.at > since)
    )
    return count == current_app.config["CARELOG_SIGN_IN_CLIENT_LIMIT"]


def account_failures(session: Session, username: str, since: datetime) -> int:
    """Failed sign-ins for an account since a moment (the start of the lockout window, or the
    account's last success, lock or unlock if later)."""
    counted = session.scalar(
        select(func.count())
        .select_from(SignInFailure)
        .where(SignInFailure.username == username[:40], SignInFailure.at > since)
    )
    return counted or 0

"""Server-side sign-in sessions: checked on every request, revocable, idle-limited."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import Flask, current_app, g, jsonify, redirect, request, url_for
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import joinedload

from carelog.accounts.models import LoginSession, User
from carelog.database import existing, utcnow, write_transaction
from carelog.extensions import db, login_manager
from carelog.ops import health
from carelog.tablets.models import Tablet

BACKGROUND_HEADER = "X-Carelog-Background"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_login_session(
    user: User,
    tablet_id: int | None = None,
    method: str = "password",
    ends_at: datetime | None = None,
) -> str:
    """Record a new sign-in session for the user and return its secret token."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        LoginSession(
            token_hash=_token_hash(token),
            user_id=user.id,
            tablet_id=tablet_id,
            method=method,
            ends_at=ends_at,
            ip=request.remote_addr,
            user_agent=request.headers.get("User-Agent", "")[:300],
        )
    )
    return token


def end_login_session(token: str, reason: str) -> None:
    """Mark a sign-in session ended so its cookie is refused from now on."""
    db.session.execute(
        update(LoginSession)
        .where(LoginSession.token_hash == _token_hash(token), LoginSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
    )


def attach_to_tablet(token: str, tablet_id: int) -> None:
    """Count a sign-in as one on a tablet (the one that enrolled it)."""
    db.session.execute(
        update(LoginSession)
        .where(LoginSession.token_hash == _token_hash(token))
        .values(tablet_id=tablet_id)
    )


def end_all_login_sessions(user_id: int, reason: str) -> None:
    """End every open session of a user, as when the account is deactivated."""
    db.session.execute(
        update(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
    )


def method_of(token: str | None) -> str | None:
    """How a live sign-in session was started: "password" or "pin" (None if not found)."""
    if not token:
        return None
    return db.session.scalar(
        select(LoginSession.method).where(LoginSession.token_hash == _token_hash(token))
    )


def _session_expired(login: LoginSession, now: datetime) -> str | None:
    config = current_app.config
    if now - login.last_seen_at > timedelta(minutes=config["CARELOG_IDLE_MINUTES"]):
        return "idle"
    if now - login.started_at > timedelta(hours=config["CARELOG_MAX_SESSION_HOURS"]):
        return "expired"
    if login.ends_at is not None and now > login.ends_at:
        return "expired"
    return None


# Built once: every request runs it, and a prebuilt statement skips rebuilding its cache key.
_LOGIN_BY_TOKEN = (
    select(LoginSession)
    .options(joinedload(LoginSession.user), joinedload(LoginSession.tablet))
    .where(LoginSession.token_hash == bindparam("token_hash"))
)


@login_manager.user_loader
def load_user_from_session(token: str) -> User | None:
    """Resolve the cookie's token to a live sign-in session and its user."""
    login = db.session.scalar(_LOGIN_BY_TOKEN, {"token_hash": _token_hash(token)})
    if login is None or login.ended_at is not None or not login.user.active:
        return None
    if login.tablet is not None and login.tablet.revoked_at is not None:
        return None  # its tablet was revoked: every session on it ends at once
    now = utcnow()
    reason = _session_expired(login, now)
    if reason:
        with write_transaction(db.session):
            end_login_session(token, reason)
        g.signed_out_for = reason
        return None
    user = login.user
    resolution = timedelta(seconds=current_app.config["CARELOG_LAST_SEEN_SECONDS"])
    # What a page asks for by itself (the outbox sending, the roster kept fresh) is not use:
    # it must not keep an unattended sign-in alive past its idle limit.
    if now - login.last_seen_at > resolution and not request.headers.get(BACKGROUND_HEADER):
        try:
            with write_transaction(db.session):
                db.session.execute(
                    update(LoginSession).where(LoginSession.id == login.id).values(last_seen_at=now)
                )
                if login.tablet_id is not None:
                    db.session.execute(
                        update(Tablet).where(Tablet.id == login.tablet_id).values(last_seen_at=now)
                    )
        except DBAPIError as error:
            # On a full disk reads go on: the idle clock keeps its last value meanwhile.
            if not health.is_storage_fault(error):
                raise
        user = existing(db.session, User, user.id)
    user.login_token = token
    return user


class CarelogSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, marked Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


@login_manager.unauthorized_handler
def ask_to_sign_in():
    """Send people to the sign-in page (saying why, if idle); other clients get a 401."""
    if request.accept_mimetypes.best == "application/json" or request.method != "GET":
        if request.method != "GET" and request.accept_mimetypes.accept_html:
            return redirect(url_for("auth.sign_in", reason=g.get("signed_out_for")), 303)
        return jsonify(error="Sign in first", message="Your session has ended."), 401
    target = request.full_path if request.query_string else request.path
    return redirect(url_for("auth.sign_in", next=target, reason=g.get("signed_out_for")))


def login_session_of(user: User) -> LoginSession | None:
    """The live sign-in session a signed-in user's request came with."""
    token = getattr(user, "login_token", None)
    if not token:
        return None
    return db.session.scalar(
        select(LoginSession).where(LoginSession.token_hash == _token_hash(token))
    )

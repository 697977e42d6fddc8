"""Who may do what: password hashing, the route policy, server-side sign-in sessions, headers."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, abort, current_app, g, jsonify, redirect, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload
from werkzeug.routing import IntegerConverter

from carelog.audit import Actor
from carelog.database import utcnow, write_transaction
from carelog.extensions import db, login_manager
from carelog.models import LoginSession, Role, User

PUBLIC = frozenset({"public"})
ALL_STAFF = frozenset(Role)
# Admins manage accounts, not care: they do not read clinical records (least privilege).
CLINICAL_READERS = frozenset({Role.NURSE, Role.CARE_MANAGER, Role.AUDITOR})
PUBLIC_ENDPOINTS = frozenset({"static"})
LAST_SEEN_RESOLUTION = timedelta(seconds=30)

_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile: above OWASP's minimum
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return _hasher.hash(password)


def check_password(stored_hash: str | None, password: str) -> bool:
    """Verify a password; with no stored hash, spend the same time and fail."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True if the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(stored_hash)


def roles(*allowed: Role) -> Callable:
    """Declare which roles may use a view; a view without a declaration is refused to all."""

    def decorate(view: Callable) -> Callable:
        view.allowed_roles = frozenset(allowed)
        return view

    return decorate


def public(view: Callable) -> Callable:
    """Declare a view open to anyone, signed in or not."""
    view.allowed_roles = PUBLIC
    return view


def allowed_roles(endpoint: str) -> frozenset | None:
    """The roles an endpoint admits, PUBLIC, or None if it declares nothing."""
    if endpoint in PUBLIC_ENDPOINTS:
        return PUBLIC
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "allowed_roles", None)


class DatabaseIntegerConverter(IntegerConverter):
    """Path ids that fit a database integer; anything larger is simply not found."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=2**31 - 1, signed=False):  # noqa: A002
        super().__init__(url_map, fixed_digits, min, max, signed)


def refuse_unusable_input():
    """Answer 400 to uploads and NUL characters: no form takes files, no database stores NUL."""
    if request.files:
        abort(400, description="Files cannot be sent to carelog.")
    values = [*request.form.values(), *request.args.values()]
    if any("\x00" in value for value in values):
        abort(400, description="The form contained a character that cannot be saved.")


def enforce_route_policy():
    """Refuse a request unless its route declared the signed-in user's role."""
    if request.endpoint is None:
        return None  # no such route: Flask answers 404 or 405 itself
    policy = allowed_roles(request.endpoint)
    if policy is None:
        current_app.logger.error("route %s declares no roles; refused", request.endpoint)
        abort(403)
    if policy is PUBLIC:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.role not in policy:
        abort(403)
    return None


def sees_every_ward() -> bool:
    """Nurses see only their own ward's residents; the other roles see every ward."""
    return current_user.role != Role.NURSE


def current_actor() -> Actor:
    """The signed-in user (if any) and where the request came from, for the audit trail."""
    user = current_user if current_user and current_user.is_authenticated else None
    return Actor(
        user_id=user.id if user else None,
        name=user.username if user else None,
        ip=request.remote_addr,
        user_agent=request.headers.get("User-Agent", ""),
    )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_login_session(user: User) -> str:
    """Record a new sign-in session for the user and return its secret token."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        LoginSession(
            token_hash=_token_hash(token),
            user_id=user.id,
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


def end_all_login_sessions(user_id: int, reason: str) -> None:
    """End every open session of a user, as when the account is deactivated."""
    db.session.execute(
        update(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
    )


def _session_expired(login: LoginSession, now: datetime) -> str | None:
    config = current_app.config
    if now - login.last_seen_at > timedelta(minutes=config["CARELOG_IDLE_MINUTES"]):
        return "idle"
    if now - login.started_at > timedelta(hours=config["CARELOG_MAX_SESSION_HOURS"]):
        return "expired"
    return None


# Built once: every request runs it, and a prebuilt statement skips rebuilding its cache key.
_LOGIN_BY_TOKEN = (
    select(LoginSession)
    .options(joinedload(LoginSession.user))
    .where(LoginSession.token_hash == bindparam("token_hash"))
)


@login_manager.user_loader
def load_user_from_session(token: str) -> User | None:
    """Resolve the cookie's token to a live sign-in session and its user."""
    login = db.session.scalar(_LOGIN_BY_TOKEN, {"token_hash": _token_hash(token)})
    if login is None or login.ended_at is not None or not login.user.active:
        return None
    now = utcnow()
    reason = _session_expired(login, now)
    if reason:
        with write_transaction(db.session):
            end_login_session(token, reason)
        g.signed_out_for = reason
        return None
    user = login.user
    if now - login.last_seen_at > LAST_SEEN_RESOLUTION:
        with write_transaction(db.session):
            db.session.execute(
                update(LoginSession).where(LoginSession.id == login.id).values(last_seen_at=now)
            )
        user = db.session.get(User, user.id)
    user.login_token = token
    return user


class CarelogSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, marked Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


def set_security_headers(response):
    """Headers every answer carries; pages with resident data are never cached."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.endpoint not in PUBLIC_ENDPOINTS:
        headers["Cache-Control"] = "no-store"
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


@login_manager.unauthorized_handler
def ask_to_sign_in():
    """Send people to the sign-in page (saying why, if idle); other clients get a 401."""
    if request.accept_mimetypes.best == "application/json" or request.method != "GET":
        if request.method != "GET" and request.accept_mimetypes.accept_html:
            return redirect(url_for("auth.sign_in", reason=g.get("signed_out_for")), 303)
        return jsonify(error="Sign in first", message="Your session has ended."), 401
    target = request.full_path if request.query_string else request.path
    return redirect(url_for("auth.sign_in", next=target, reason=g.get("signed_out_for")))

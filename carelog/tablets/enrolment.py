"""Enrolling a ward tablet, knowing it again from its cookie, and revoking it."""

from __future__ import annotations

import hashlib
import secrets

from flask import current_app, request
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from carelog.accounts import login_sessions
from carelog.accounts.models import LoginSession, Ward
from carelog.audit import chain
from carelog.audit.actor import Actor
from carelog.database import existing, utcnow, write_transaction
from carelog.errors import FieldError
from carelog.extensions import db
from carelog.tablets.models import Tablet

COOKIE = "carelog_tablet"
COOKIE_DAYS = 400  # the longest a browser keeps a cookie (Chrome caps it there)


class TabletError(FieldError):
    """A request about a tablet that cannot be carried out, in words for the manager."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def enrol(
    actor: Actor, name: str, ward_id: int, sign_in_token: str | None = None
) -> tuple[Tablet, str]:
    """Enrol the tablet in hand to a ward; the secret returned goes into its cookie only. The
    sign-in that enrols it becomes one of its sessions (revoking the tablet ends it too)."""
    here = this_tablet()
    if here is not None:
        raise TabletError(
            None, f"This browser is already enrolled as {here.name}: revoke it first."
        )
    token = secrets.token_urlsafe(32)
    with write_transaction(db.session) as session:
        if session.get(Ward, ward_id) is None:
            raise TabletError("ward_id", "Choose the ward this tablet stays on.")
        tablet = Tablet(
            name=name.strip(),
            ward_id=ward_id,
            token_hash=_hash(token),
            enrolled_by_id=actor.user_id,
        )
        session.add(tablet)
        session.flush()
        if sign_in_token:
            login_sessions.attach_to_tablet(sign_in_token, tablet.id)
        new = {"name": tablet.name, "ward_id": ward_id}
        chain.record(session, actor, "tablet.enrol", "tablet", tablet.id, new=new)
    return tablet, token


def revoke(actor: Actor, tablet_id: int, reason: str) -> None:
    """Revoke a tablet: its cookie is refused and every sign-in session on it ends at once."""
    with write_transaction(db.session) as session:
        tablet = existing(session, Tablet, tablet_id)
        if tablet.revoked:
            raise TabletError(None, f"{tablet.name} was already revoked.")
        tablet.revoked_at = utcnow()
        tablet.revoked_by_id = actor.user_id
        tablet.revoke_reason = reason.strip()
        session.execute(
            update(LoginSession)
            .where(LoginSession.tablet_id == tablet.id, LoginSession.ended_at.is_(None))
            .values(ended_at=tablet.revoked_at, end_reason="tablet_revoked")
        )
        new = {"name": tablet.name, "ward_id": tablet.ward_id}
        chain.record(session, actor, "tablet.revoke", "tablet", tablet.id, new=new, reason=reason)


def this_tablet() -> Tablet | None:
    """The enrolled, unrevoked tablet this request comes from, or None (cached per request)."""
    token = request.cookies.get(COOKIE)
    if not token or len(token) > 100:
        return None
    tablet = db.session.scalar(select(Tablet).where(Tablet.token_hash == _hash(token)))
    return tablet if tablet is not None and not tablet.revoked else None


def has_tablet_cookie() -> bool:
    """Whether this browser says it is an enrolled tablet (checked for real when it matters)."""
    return COOKIE in request.cookies


def remember_tablet(response: Response, token: str) -> None:
    """Keep the tablet's secret in its browser: HttpOnly, never sent to another site."""
    response.set_cookie(
        COOKIE,
        token,
        max_age=COOKIE_DAYS * 24 * 3600,
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config["SESSION_COOKIE_SECURE"] or request.is_secure),
    )


def forget_tablet(response: Response) -> None:
    """Drop a cookie that names no enrolled tablet (revoked, or unknown here)."""
    response.delete_cookie(COOKIE)


def tablets() -> list[Tablet]:
    """Every tablet ever enrolled, those in use first, with their ward and people."""
    return list(
        db.session.scalars(
            select(Tablet)
            .options(
                joinedload(Tablet.ward),
                joinedload(Tablet.enrolled_by),
                joinedload(Tablet.revoked_by),
            )
            .order_by(Tablet.revoked_at.is_not(None), Tablet.name, Tablet.id)
        )
    )

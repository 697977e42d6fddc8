"""The start page for each role, and the health check used by monitoring."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for
from flask_login import current_user
from sqlalchemy import text

from carelog.accounts.roles import ALL_STAFF, Role
from carelog.extensions import db
from carelog.web.policy import public, roles

bp = Blueprint("home", __name__)


START_PAGES = {
    Role.NURSE: "ward.board",
    Role.CARE_MANAGER: "ward.board",
    Role.AUDITOR: "auditor.trail",
    Role.ADMIN: "admin.users",
}


@bp.get("/")
@roles(ALL_STAFF)
def index():
    """Send each role to the page it starts from."""
    return redirect(url_for(START_PAGES[Role(current_user.role)]))


@bp.get("/healthz")
@public
def healthz():
    """Answer 200 when the database is reachable, 503 when it is not."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means unhealthy
        db.session.rollback()
        return {"status": "unavailable"}, 503
    return {"status": "ok"}

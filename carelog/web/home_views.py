"""The start page for each role, and the health check used by monitoring."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for
from flask_login import current_user

from carelog.accounts.roles import ALL_STAFF, Role
from carelog.ops import health
from carelog.web.policy import public, roles

bp = Blueprint("home", __name__)


START_PAGES = {
    Role.NURSE: "ward.board",
    Role.CARE_MANAGER: "dashboard.index",
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
    """200 when records can be kept; 503 with the reason when the database is out of reach or
    cannot store (a full disk, a read-only file), so that monitoring sees it."""
    state = health.check()
    if not state.ok:
        answer = {"status": state.status}
        if state.message:
            answer["message"] = state.message
        return answer, 503
    return {"status": "ok"}

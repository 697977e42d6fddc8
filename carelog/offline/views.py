"""Working without Wi-Fi: the roster a tablet keeps, the page shells its service worker keeps,
and where its outbox sends the entries saved offline."""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import SimpleNamespace

from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from flask_login import current_user

from carelog.accounts.login_sessions import login_session_of
from carelog.accounts.roles import CARERS
from carelog.extensions import csrf
from carelog.offline import intake
from carelog.offline.roster import roster_for
from carelog.web.policy import public, roles

bp = Blueprint("offline", __name__)
NO_ONE = SimpleNamespace(
    avoid_left_hand=False, avoid_right_hand=False, light_pressure_only=False, defer_sessions=False
)

# What the service worker keeps, so the board and the session form open with no connection.
SHELLS = (
    "offline.board_shell",
    "offline.session_shell",
    "offline.follow_ups_shell",
    "offline.unavailable",
)
STATIC_FILES = (
    "carelog.css",
    "carelog.js",
    "outbox.js",
    "offline.js",
    "chime.wav",
    "favicon.svg",
    "manifest.webmanifest",
    "icons/icon-192.png",
)


def _cached_urls() -> list[str]:
    return [url_for(endpoint) for endpoint in SHELLS] + [
        url_for("static", filename=name) for name in STATIC_FILES
    ]


def _version() -> str:
    """Changes whenever anything the service worker keeps changes (a static file, or a shell as
    drawn: its templates, the form's fields and choices), so tablets fetch them all again."""
    memo = current_app.extensions.setdefault("carelog_offline", {})
    if "version" not in memo or current_app.debug:
        digest = hashlib.sha256()
        static = Path(current_app.static_folder or "")
        for name in STATIC_FILES:
            digest.update((static / name).read_bytes())
        for shell in (board_shell, session_shell, follow_ups_shell, unavailable):
            digest.update(shell().encode())
        memo["version"] = digest.hexdigest()[:16]
    return memo["version"]


@bp.get("/sw.js")
@public
def service_worker():
    """The service worker, at the top so that it looks after every page."""
    script = render_template("offline/sw.js", version=_version(), urls=_cached_urls())
    return script, 200, {"Content-Type": "text/javascript", "Cache-Control": "no-cache"}


@bp.get("/offline/board")
@public
def board_shell():
    """The board drawn on the tablet from its roster: no one's data is in this page."""
    return render_template("offline/board.html")


@bp.get("/offline/session")
@public
def session_shell():
    """The session form drawn on the tablet from its roster: no one's data is in this page."""
    from carelog.care.forms import DeclinedForm, NotDoneForm, SessionForm

    return render_template(
        "offline/session.html",
        form=SessionForm(formdata=None, meta={"csrf": False}),
        declined_form=DeclinedForm(formdata=None, meta={"csrf": False}),
        not_done_form=NotDoneForm(formdata=None, meta={"csrf": False}),
        # No one's precautions: the tablet marks them from the roster.
        resident=NO_ONE,
        consent=None,
    )


@bp.get("/offline/follow-ups")
@public
def follow_ups_shell():
    """Next-morning sleep drawn on the tablet from its roster: no one's data is in this page."""
    from carelog.care.forms import SleepFollowUpForm

    return render_template(
        "offline/follow_ups.html", form=SleepFollowUpForm(formdata=None, meta={"csrf": False})
    )


@bp.get("/offline/unavailable")
@public
def unavailable():
    """What any other page shows with no connection."""
    return render_template("offline/unavailable.html")


@bp.get("/offline/ping")
@public
def ping():
    """Answers while the server is up: the tablet asks before sending a form."""
    return "", 204


@bp.get("/offline/roster")
@roles(CARERS)
def roster():
    """The signed-in nurse's ward, for her tablet to work offline, with her sign-in's key."""
    login = login_session_of(current_user)
    if login is None:
        return jsonify(error="Sign in first"), 401
    return jsonify(roster_for(current_user, login))


@bp.post("/offline/entries")
@public  # the entry's signature says whose it is, not the cookie: see intake.py
@csrf.exempt
def receive_entry():
    """One entry from a tablet's outbox: 201 saved, 200 already saved, 4xx refused (why)."""
    body = request.get_json(silent=True)
    try:
        saved = intake.receive(body)
    except intake.Refused as refusal:
        answer: dict[str, object] = {"error": refusal.message}
        if refusal.session_id:
            answer["url"] = url_for("sessions.show", session_id=refusal.session_id)
        if current_user.is_authenticated and current_user.id == refusal.author_id:
            answer["answers"] = refusal.answers  # hers alone, to open the form with them again
        return jsonify(answer), refusal.status
    return jsonify(
        state="saved",
        replay=saved.replay,
        url=url_for("sessions.show", session_id=saved.session_id),
    ), 200 if saved.replay else 201

"""Answers for things that go wrong: plain words for people, a clear 4xx or 503 for clients."""

from __future__ import annotations

from flask import Flask, g, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DatabaseError, OperationalError
from werkzeug.exceptions import HTTPException

from carelog.extensions import db, login_manager
from carelog.ops import health

NOT_SAVED = (
    "Not saved: the system cannot store records right now. Tell the manager; try again later. "
    "What you entered on this tablet is kept."
)
STORAGE_RETRY_SECONDS = 60
BUSY_MARKERS = ("database is locked", "database is busy", "lock timeout", "could not obtain lock")


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _answer(status: int, title: str, message: str, headers: dict | None = None):
    if _wants_json():
        return {"error": title, "message": message}, status, headers or {}
    page = render_template("web/error.html", status=status, title=title, message=message)
    return page, status, headers or {}


def register(app: Flask) -> None:
    """Install the error handlers."""

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        titles = {
            403: "Not available to your role",
            404: "Not found",
            405: "Not allowed",
            413: "Too much data",
        }
        messages = {
            403: "Your account cannot open this page. Ask a care manager if you need it.",
            404: "There is nothing at this address. Use the menu to find your way.",
            413: "What you sent is too large. Shorten the text and try again.",
        }
        code = error.code or 500
        own_words = error.description != type(error).description  # a view said what is wrong
        description = error.description or ""
        return _answer(
            code,
            titles.get(code, error.name),
            description if own_words else messages.get(code, description),
            dict(error.get_headers()) if code == 405 else None,
        )

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return _answer(
            400,
            "The form had expired",
            "The page was open too long or you were signed out. Go back, reload and try again; "
            "anything you typed on a session form is kept on this tablet.",
        )

    @app.errorhandler(OperationalError)
    def database_busy(error: OperationalError):
        db.session.rollback()
        if health.is_storage_fault(error):
            return storage_fault(error)
        if any(marker in str(error.orig).lower() for marker in BUSY_MARKERS):
            return _answer(
                503,
                "Busy, please try again",
                "The system is busy for a moment. Nothing was saved; try again in a few seconds.",
                {"Retry-After": "2"},
            )
        raise error

    @app.errorhandler(DatabaseError)
    def database_error(error: DatabaseError):
        db.session.rollback()
        if health.is_storage_fault(error):
            return storage_fault(error)
        raise error

    @app.errorhandler(OSError)
    def os_error(error: OSError):
        if health.is_storage_fault(error):
            return storage_fault(error)
        raise error

    def storage_fault(error: BaseException):
        """Nothing was saved because the disk is full or read-only: say so, in words."""
        if health.note_storage_fault(error):
            app.logger.error("storage fault, writes refused: %s", getattr(error, "orig", error))
        if "_login_user" not in g:
            # The sign-in could not be read back: draw the page without it, not try again.
            g._login_user = login_manager.anonymous_user()
        return _answer(
            503,
            "Not saved",
            NOT_SAVED,
            {"Retry-After": str(STORAGE_RETRY_SECONDS)},
        )

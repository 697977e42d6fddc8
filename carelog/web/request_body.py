"""A request's body arrives whole and readable, or it is refused before any view sees it.

A tablet leaving Wi-Fi mid-send can close the connection before the declared body has arrived;
gunicorn then hands the app a short body as if it were complete (benoitc/gunicorn#3234), and a
form parsed from it would save truncated text. A client that stops sending without closing
would hold a worker. So the body is read here, once, within a time limit, and compared with
what was declared; the form is then parsed from the cached bytes.
"""

from __future__ import annotations

import socket
from urllib.parse import unquote_to_bytes

from flask import abort, current_app, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

METHODS_WITH_A_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})
INCOMPLETE = (
    "The form arrived incomplete: the connection was lost while it was being sent. "
    "Nothing was saved. Send it again."
)
UNREADABLE = "The form contained characters that cannot be read. Nothing was saved."
# What the server's parsers write in place of bytes that are not UTF-8 (percent-encoded or raw).
REPLACEMENT_CHARACTER = "\ufffd"


def _read_whole_body() -> None:
    """Read the body within CARELOG_BODY_SECONDS, refusing a short or broken one with 400."""
    sock = request.environ.get("gunicorn.socket")
    if isinstance(sock, socket.socket):
        # A client that stops sending frees its worker thread after this long.
        sock.settimeout(current_app.config["CARELOG_BODY_SECONDS"])
    try:
        body = request.get_data(cache=True)
    except RequestEntityTooLarge:
        limit = _upload_limit()
        if limit:  # a file too large: say how large one may be
            abort(413, description=f"The file is too large: send one of at most {limit >> 20} MB.")
        raise
    except HTTPException:
        raise
    except Exception:  # noqa: BLE001 - a timeout, a reset, a malformed chunk: all mean "not whole"
        current_app.logger.info("request body unreadable: %s", request.path, exc_info=True)
        abort(400, description=INCOMPLETE)
    declared = request.content_length
    if declared is not None and len(body) != declared:
        abort(400, description=INCOMPLETE)
    if request.mimetype == "application/x-www-form-urlencoded":
        _refuse_undecodable(body)


def _refuse_undecodable(encoded: bytes) -> None:
    """Refuse form text that is not UTF-8, raw or percent-encoded (the form parser would keep
    "%FF" as literal text, or drop the field)."""
    # Unquoting the whole body at once is a quarter of the cost of parsing it into fields, and
    # finds the same bytes: the separators (& and =) are ASCII and end any broken sequence.
    try:
        unquote_to_bytes(encoded.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        abort(400, description=UNREADABLE)


UPLOAD_LIMIT_ATTRIBUTE = "_carelog_upload_limit"


def accepts_upload(max_bytes: int):
    """Mark a view as taking a file of at most max_bytes; every other view refuses files."""

    def mark(view):
        setattr(view, UPLOAD_LIMIT_ATTRIBUTE, max_bytes)
        return view

    return mark


def _upload_limit() -> int | None:
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, UPLOAD_LIMIT_ATTRIBUTE, None)


def refuse_unusable_input() -> None:
    """Answer 400 to bodies cut short, uploads, NUL characters and text that is not UTF-8."""
    upload_limit = _upload_limit()
    if upload_limit:
        request.max_content_length = upload_limit
    if request.method in METHODS_WITH_A_BODY:
        _read_whole_body()
    _refuse_undecodable(request.query_string)
    if request.files and not upload_limit:
        abort(400, description="Files cannot be sent to carelog.")
    values = [*request.form.values(), *request.args.values()]
    if any("\x00" in value for value in values):
        abort(400, description="The form contained a character that cannot be saved.")
    if any(REPLACEMENT_CHARACTER in value for value in values):
        abort(400, description=UNREADABLE)

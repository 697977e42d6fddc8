"""Is the system able to keep records right now? Storage faults recognised, and the health check.

A full disk or a read-only database makes every write fail while every read still works, so a
health check that only reads says "ok" throughout. This one also writes: beside a SQLite
database (a small file, flushed, after a free-space check), or into a temporary table on
PostgreSQL (which must extend a file in the database's own tablespace), and rolls back.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from carelog.extensions import db

# How SQLite and PostgreSQL say that they cannot store what they were given.
STORAGE_MARKERS = (
    "database or disk is full",
    "disk i/o error",
    "readonly database",
    "read-only file system",
    "no space left on device",
    "could not extend file",
    "could not write",
    "unable to open database file",
)
LOG_EVERY_SECONDS = 60  # a storage fault is logged once in this long, not once per request
PROBE_BYTES = 4096

_lock = threading.Lock()
_last_logged = -float(LOG_EVERY_SECONDS)  # monotonic seconds


def is_storage_fault(error: BaseException) -> bool:
    """True if a database error means the records cannot be stored (not a busy lock or a bug)."""
    cause = getattr(error, "orig", None) or error
    message = str(cause).lower()
    return isinstance(error, DBAPIError | OSError) and any(m in message for m in STORAGE_MARKERS)


def note_storage_fault(error: BaseException) -> bool:
    """True the first time in LOG_EVERY_SECONDS that a storage fault is met: time to log it."""
    global _last_logged
    with _lock:
        now = time.monotonic()
        first = now - _last_logged > LOG_EVERY_SECONDS
        if first:
            _last_logged = now
    return first


@dataclass(frozen=True)
class Health:
    """The answer of the health check."""

    ok: bool
    status: str
    message: str = ""


def _sqlite_folder() -> Path | None:
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).resolve().parent


def _probe_folder(folder: Path) -> str | None:
    """Write, flush and remove a small file where the database lives; the problem, if any."""
    free_mb = shutil.disk_usage(folder).free / 1024 / 1024
    if free_mb < current_app.config["CARELOG_MIN_FREE_MB"]:
        return f"only {free_mb:.0f} MB free beside the database"
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".health-") as probe:
            probe.write(b"\0" * PROBE_BYTES)
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as error:
        return f"cannot write beside the database: {error.strerror or error}"
    return None


def _probe_postgresql() -> str | None:
    """Extend a temporary table by a page, then roll back; the problem, if any."""
    try:
        with db.engine.connect() as connection, connection.begin() as transaction:
            connection.execute(text("CREATE TEMP TABLE carelog_health (b bytea) ON COMMIT DROP"))
            connection.execute(
                text("INSERT INTO carelog_health VALUES (decode(repeat('00', :n), 'hex'))"),
                {"n": PROBE_BYTES * 2},
            )
            transaction.rollback()
    except DBAPIError as error:
        if is_storage_fault(error):
            return f"cannot write to the database: {str(error.orig).splitlines()[0]}"
        raise
    return None


def check() -> Health:
    """Reachable, writable and with room to write; or why not."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure to reach the database is unhealthy
        db.session.rollback()
        return Health(False, "unavailable")
    folder = _sqlite_folder()
    if folder:
        problem = _probe_folder(folder)
    elif db.engine.dialect.name == "postgresql":
        problem = _probe_postgresql()
    else:
        problem = None
    if problem:
        return Health(False, "storage_fault", problem)
    return Health(True, "ok")

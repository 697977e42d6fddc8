"""Direct database access for the audit-trail tests: concurrent appenders and an attacker.

Run as `python -m tests.audit_appender MODE URL WORKER COUNT PAUSE_MS`: the process sets up, prints
`ready`, waits for a line on stdin (so that every appender starts at once), appends COUNT entries
and prints one JSON line with what happened. MODE is
- `serialised`: carelog's real path, create_app on URL then write_transaction + audit.record;
- `unserialised`: the negative control, the same fields and hash computed the same way, but the head
  is read and the entry inserted on a plain autocommit connection, with no BEGIN IMMEDIATE and no
  advisory lock.
PAUSE_MS is a sleep between reading the head and committing, standing for the clinical write that
shares the transaction; it widens the window in which an unserialised appender reads a stale head.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy import select
from sqlalchemy.engine import make_url

from carelog.audit import chain, models
from carelog.audit.actor import Actor
from carelog.database import utcnow

COLUMNS = (*models.HASHED_FIELDS, "hash")
ACTION = "test.append"
ENTITY = "appender"
MAX_RETRIES = 50


def dialect_of(url: str) -> str:
    """sqlite or postgresql."""
    return make_url(url).get_backend_name()


@contextmanager
def direct_connection(url: str) -> Iterator[Any]:
    """A DB-API connection that bypasses carelog entirely; commits on success, always closes."""
    if dialect_of(url) == "sqlite":
        connection = sqlite3.connect(make_url(url).database, timeout=5)
    else:
        connection = psycopg.connect(url.replace("+psycopg", ""))
    try:
        yield connection
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    finally:
        connection.close()


def placeholder(url: str) -> str:
    """The DB-API parameter marker of the backend."""
    return "?" if dialect_of(url) == "sqlite" else "%s"


def fetch_rows(connection) -> list[dict[str, Any]]:
    """Every audit entry in id order, as plain dicts, read straight from the database."""
    cursor = connection.execute(f"SELECT {', '.join(COLUMNS)} FROM audit_entry ORDER BY id")
    return [dict(zip(COLUMNS, row, strict=True)) for row in cursor.fetchall()]


def insert_row(connection, url: str, row: dict[str, Any]) -> None:
    """Insert one entry as given, hash included."""
    marks = ", ".join(placeholder(url) for _ in COLUMNS)
    connection.execute(
        f"INSERT INTO audit_entry ({', '.join(COLUMNS)}) VALUES ({marks})",
        [row[name] for name in COLUMNS],
    )


def remove_protections(connection, dialect: str, *, constraints: bool = False) -> None:
    """Do what an owner of the database can: drop the append-only triggers, and the keys too."""
    if dialect == "sqlite":
        for verb in ("update", "delete"):
            connection.execute(f"DROP TRIGGER audit_entry_no_{verb}")
        if constraints:  # SQLite cannot drop a constraint: copy the rows into a bare table
            connection.execute("CREATE TABLE audit_bare AS SELECT * FROM audit_entry")
            connection.execute("DROP TABLE audit_entry")
            connection.execute("ALTER TABLE audit_bare RENAME TO audit_entry")
    else:
        connection.execute("DROP TRIGGER audit_entry_no_change ON audit_entry")
        connection.execute("DROP TRIGGER audit_entry_no_truncate ON audit_entry")
        if constraints:
            connection.execute(
                "ALTER TABLE audit_entry DROP CONSTRAINT pk_audit_entry, "
                "DROP CONSTRAINT uq_audit_entry_prev_hash, DROP CONSTRAINT uq_audit_entry_hash"
            )
    connection.commit()


def _fields(head_id: int | None, head_hash: str | None, worker: int, n: int) -> dict[str, Any]:
    """The fields audit.record would compute for this append."""
    fields = {
        "id": (head_id or 0) + 1,
        "recorded_at": utcnow().strftime(models.TIMESTAMP_FORMAT),
        "actor_id": None,
        "actor": f"appender-{worker}",
        "action": ACTION,
        "entity": ENTITY,
        "entity_id": f"{worker}-{n}",
        "resident_id": None,
        "old_values": None,
        "new_values": chain.canonical_json({"worker": worker, "n": n}),
        "reason": None,
        "ip": None,
        "user_agent": None,
        "prev_hash": head_hash or chain.GENESIS_HASH,
    }
    fields["hash"] = chain.entry_hash(fields)
    return fields


def is_busy(error: BaseException) -> bool:
    """A lock timeout or serialisation failure: the request could be retried as it is."""
    cause = getattr(error, "orig", None) or error
    if isinstance(cause, sqlite3.OperationalError):
        return "locked" in str(cause) or "busy" in str(cause)
    return isinstance(
        cause,
        psycopg.errors.SerializationFailure
        | psycopg.errors.DeadlockDetected
        | psycopg.errors.LockNotAvailable,
    )


class Tally:
    """What one appender saw: appends acknowledged, busy retries, other errors."""

    def __init__(self, worker: int) -> None:
        self.worker = worker
        self.appended: list[int] = []
        self.busy = 0
        self.errors: list[str] = []

    def as_json(self) -> str:
        return json.dumps(
            {
                "worker": self.worker,
                "appended": self.appended,
                "busy": self.busy,
                "error_count": len(self.errors),
                "errors": self.errors[:5],
            }
        )


def run_serialised(url: str, worker: int, count: int, pause: float) -> Tally:
    """Append through carelog's own code path: create_app, write_transaction, audit.record."""
    from carelog import create_app
    from carelog.database import write_transaction
    from carelog.extensions import db

    tally = Tally(worker)
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "appender-" * 8, "SQLALCHEMY_DATABASE_URI": url}
    )
    actor = Actor(user_id=None, name=f"appender-{worker}")
    with app.app_context():
        db.session.execute(select(models.AuditEntry.id).limit(1)).all()  # open the pool
        db.session.rollback()
        _wait_for_start()
        for n in range(count):
            for _attempt in range(MAX_RETRIES):
                try:
                    with write_transaction(db.session) as session:
                        chain.record(
                            session,
                            actor,
                            ACTION,
                            ENTITY,
                            f"{worker}-{n}",
                            new={"worker": worker, "n": n},
                        )
                        time.sleep(pause)
                    tally.appended.append(n)
                    break
                except Exception as error:  # every failure is counted
                    if is_busy(error):
                        tally.busy += 1
                        continue
                    tally.errors.append(f"{type(error).__name__}: {error}"[:300])
                    break
        db.session.remove()
        db.engine.dispose()
    return tally


def run_unserialised(url: str, worker: int, count: int, pause: float) -> Tally:
    """The negative control: read the head and insert in autocommit, with nothing serialising."""
    tally = Tally(worker)
    if dialect_of(url) == "sqlite":
        connection = sqlite3.connect(make_url(url).database, timeout=5, isolation_level=None)
    else:
        connection = psycopg.connect(url.replace("+psycopg", ""), autocommit=True)
    try:
        _wait_for_start()
        for n in range(count):
            try:
                head = connection.execute(
                    "SELECT id, hash FROM audit_entry ORDER BY id DESC LIMIT 1"
                ).fetchone()
                fields = _fields(*(head or (None, None)), worker, n)
                time.sleep(pause)
                insert_row(connection, url, fields)
                tally.appended.append(n)
            except Exception as error:  # every failure is counted
                if is_busy(error):
                    tally.busy += 1
                else:
                    tally.errors.append(f"{type(error).__name__}: {error}"[:300])
    finally:
        connection.close()
    return tally


def _wait_for_start() -> None:
    """Tell the parent this appender is ready, then block until it says go."""
    print("ready", flush=True)
    sys.stdin.readline()


MODES = {"serialised": run_serialised, "unserialised": run_unserialised}


def main(argv: list[str]) -> None:
    mode, url, worker, count, pause_ms = argv
    tally = MODES[mode](url, int(worker), int(count), float(pause_ms) / 1000)
    print(tally.as_json(), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])

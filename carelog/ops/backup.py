"""Consistent backups of a live SQLite database, checked before they are trusted, and restores."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from carelog.audit import chain
from carelog.database import configure_engine


class BackupError(RuntimeError):
    """A backup or restore that cannot go ahead, said plainly."""


def sqlite_path(database_url: str) -> Path:
    """The file behind a SQLite URL."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        raise BackupError("not a SQLite database")
    return Path(url.database)


def _timestamped(dest: Path) -> Path:
    if dest.is_dir():
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        return dest / f"carelog-{stamp}.sqlite"
    return dest


def check_copy(path: Path) -> chain.Verification:
    """PRAGMA integrity_check and the audit chain of a database file; raise if either fails."""
    try:
        with sqlite3.connect(path) as connection:
            result = connection.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a readable carelog database ({error})") from error
    if result != "ok":
        raise BackupError(f"{path} fails SQLite's integrity check: {result}")
    engine = create_engine(f"sqlite:///{path}")
    configure_engine(engine)
    try:
        with Session(engine) as session:
            verification = chain.verify(session)
    except DBAPIError as error:
        raise BackupError(f"{path} does not hold a carelog audit trail ({error.orig})") from error
    finally:
        engine.dispose()
    if not verification.ok:
        raise BackupError(
            f"the audit trail in {path} does not verify at entry {verification.first_bad_id}: "
            f"{verification.problem}"
        )
    return verification


def _online_copy(source_path: Path, target: Path) -> None:
    source = sqlite3.connect(source_path, timeout=30)
    destination = sqlite3.connect(target)
    try:
        source.backup(destination)  # pages=-1: one step, so the copy is one snapshot
    finally:
        destination.close()
        source.close()


def backup_sqlite(database_url: str, dest: Path) -> tuple[Path, chain.Verification]:
    """Copy a live database with SQLite's online backup (one consistent snapshot)."""
    source_path = sqlite_path(database_url)
    target = _timestamped(dest)
    if target.exists():
        raise BackupError(f"{target} already exists; choose a new name")
    _online_copy(source_path, target)
    return target, check_copy(target)


def backup_postgresql(database_url: str, dest: Path) -> Path:
    """Run pg_dump in its custom format, which pg_restore reads."""
    target = dest / "carelog.pgdump" if dest.is_dir() else dest
    url = make_url(database_url).set(drivername="postgresql")
    dump = shutil.which("pg_dump")
    if dump is None:
        raise BackupError("pg_dump is not installed; install the PostgreSQL client tools")
    environment = {**os.environ, "PGPASSWORD": url.password or ""}  # not on the command line
    address = url.set(password=None).render_as_string(hide_password=False)
    command = [dump, "--format=custom", "--file", str(target), address]
    subprocess.run(command, check=True, env=environment)  # noqa: S603 - fixed argv, no shell
    return target


def restore_sqlite(source: Path, database_url: str) -> tuple[Path | None, chain.Verification]:
    """Replace the app's database with a checked backup; the old one is kept beside it.

    The old database is kept as it is, unchecked: a damaged one is why people restore.
    """
    verification = check_copy(source)
    live = sqlite_path(database_url)
    kept = None
    if live.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        kept = live.with_name(f"{live.name}.before-restore-{stamp}")
        try:
            _online_copy(live, kept)
        except sqlite3.DatabaseError:
            kept.unlink(missing_ok=True)
            shutil.copyfile(live, kept)  # unreadable as a database: keep the bytes
    _online_copy(source, live)
    return kept, verification

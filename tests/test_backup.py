"""Backups taken while nurses keep writing restore to a database that opens, checks and holds
every session committed before the backup began; restore refuses a damaged or tampered copy.

SQLite: `flask --app carelog backup` (SQLite's online backup API) runs as its own process while
writer threads keep logging sessions through carelog.care.recording.record_session; the copy is
put back
into a fresh instance with `flask --app carelog restore --yes`. PostgreSQL: the same writers run
while `backup` calls pg_dump (the test server's bin folder on PATH); the dump is loaded with
pg_restore into a new database, and `restore` explains that pg_restore is the way.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text as sql
from sqlalchemy.exc import DBAPIError

from carelog import create_app
from carelog.audit import chain
from carelog.care import recording
from carelog.care.models import SessionContent
from carelog.database import utcnow, write_transaction
from carelog.extensions import db
from tests.conftest import app_config, build_template
from tests.helpers.commands import integrity_check, run_flask
from tests.helpers.records import (
    Contents,
    actor,
    contents,
    given_content,
    nurse_ward,
    plain_residents,
    user_id,
)

WRITERS = 4
WARM_UP_SESSIONS = 40
AFTER_BACKUP_SECONDS = 0.3
WRITE_DEADLINE_SECONDS = 60
WRITE_PAUSE_SECONDS = 0.002  # a breath between sessions, so no writer starves the others


# ----- writers that keep logging sessions ---------------------------------------------------


@dataclass
class Writers:
    """Threads logging sessions; each key is noted, with the time, once its commit returned."""

    app: object
    plans: list[tuple[str, list[int]]]
    committed: list[tuple[float, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        for number in range(WRITERS):
            username, residents = self.plans[number % len(self.plans)]
            thread = threading.Thread(target=self._write, args=(number, username, residents))
            thread.start()
            self.threads.append(thread)

    def _write(self, number: int, username: str, residents: list[int]) -> None:
        deadline = time.monotonic() + WRITE_DEADLINE_SECONDS
        who, given_by = actor(self.app, username), user_id(self.app, username)
        with self.app.app_context():
            n = 0
            while not self.stop.is_set() and time.monotonic() < deadline:
                started = utcnow().replace(microsecond=0) - timedelta(minutes=5)
                # Many sessions per resident in a minute: each confirmed as another one.
                content = given_content(given_by, started, repeat_confirmed=True)
                key = str(uuid.uuid4())
                try:
                    recording.record_session(
                        who,
                        residents[n % len(residents)],
                        key,
                        SessionContent.from_columns(content),
                        content,
                    )
                except Exception as error:  # noqa: BLE001 - every failure is reported
                    self.errors.append(f"writer {number}: {type(error).__name__}: {error}")
                    return
                self.committed.append((time.monotonic(), key))
                n += 1
                time.sleep(WRITE_PAUSE_SECONDS)

    def keys(self, until: float | None = None) -> set[str]:
        """Keys whose commit had returned before `until` (all, if None)."""
        return {key for moment, key in list(self.committed) if until is None or moment < until}

    def wait_for(self, sessions: int) -> None:
        deadline = time.monotonic() + 30
        while len(self.committed) < sessions and not self.errors:
            assert time.monotonic() < deadline, "the writers are not writing"
            time.sleep(0.01)

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=WRITE_DEADLINE_SECONDS)


@dataclass(frozen=True)
class Written:
    """What the writers committed before, during and around the backup command."""

    result: subprocess.CompletedProcess
    before: set[str]
    during: set[str]
    everything: set[str]


def backup_while_writing(app, database_url: str, dest: Path, path_prefix=None) -> Written:
    """Start the writers, run `flask backup` while they write, then stop them."""
    plans = [
        (name, [p.id for p in plain_residents(app, nurse_ward(app, name))])
        for name in ("nurse", "nurse2")
    ]
    writers = Writers(app, plans)
    writers.start()
    try:
        writers.wait_for(WARM_UP_SESSIONS)
        began = time.monotonic()
        before = writers.keys()
        result = run_flask(database_url, "backup", str(dest), path_prefix=path_prefix)
        ended = time.monotonic()
        time.sleep(AFTER_BACKUP_SECONDS)
    finally:
        writers.finish()
    assert writers.errors == []
    during = writers.keys(ended) - writers.keys(began)
    return Written(result, before, during, writers.keys())


def contents_at(url: str) -> Contents:
    """Open a database with a new app, as a restored instance would be opened."""
    return contents(create_app(app_config(url)))


def check_restored(found: Contents, written: Written) -> None:
    """Every session committed before the backup is there; nothing foreign; trail and rows agree."""
    assert found.verification.ok, found.verification.problem
    missing = written.before - found.keys
    assert not missing, f"{len(missing)} sessions committed before the backup are missing"
    assert found.keys <= written.everything, "the copy holds sessions nobody wrote"
    assert found.sessions == found.recorded, "sessions and their audit entries disagree"


def report(capsys, backend: str, written: Written, found: Contents) -> None:
    with capsys.disabled():
        print(
            f"\n[{backend} backup] {len(written.before)} sessions committed before the backup "
            f"began, {len(written.during)} while it ran, {len(written.everything)} in all; "
            f"restored copy holds {len(found.keys)}, missing from before: "
            f"{len(written.before - found.keys)}"
        )


# ----- backup while writing, then restore, on both backends --------------------------------


def test_a_backup_taken_while_nurses_write_restores_everything_committed_before_it(
    backend, app, database_url, tmp_path, request, capsys
):
    """4 writer threads keep logging while `flask backup` runs; the restored copy lost nothing."""
    if backend == "postgresql":
        postgres_backup_and_restore(app, database_url, tmp_path, request, capsys)
        return
    dest = tmp_path / "backups"
    dest.mkdir()
    written = backup_while_writing(app, database_url, dest)
    assert written.result.returncode == 0, written.result.stderr
    match = re.search(
        r"Backed up to (\S+): integrity ok, audit trail verified", written.result.stdout
    )
    assert match, written.result.stdout
    copy = Path(match.group(1))
    assert copy.parent == dest and copy.exists()
    assert written.during, "no session was committed while the backup ran"

    fresh = tmp_path / "fresh" / "carelog.sqlite"
    fresh.parent.mkdir()
    restored = run_flask(f"sqlite:///{fresh}", "restore", str(copy), "--yes")
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.startswith(f"Restored {copy}")

    assert integrity_check(fresh) == "ok"
    found = contents_at(f"sqlite:///{fresh}")
    check_restored(found, written)
    report(capsys, backend, written, found)


def postgres_backup_and_restore(app, database_url, tmp_path, request, capsys):
    """pg_dump under the same writers; pg_restore into a new database; restore says pg_restore."""
    server = request.getfixturevalue("postgres_server")
    written = backup_while_writing(app, database_url, tmp_path, path_prefix=server.bin_dir)
    assert written.result.returncode == 0, written.result.stderr
    assert "with pg_dump" in written.result.stdout
    dump = tmp_path / "carelog.pgdump"
    assert dump.exists() and dump.stat().st_size > 0
    assert written.during, "no session was committed while pg_dump ran"

    with app.app_context():
        live_head = chain.head(db.session)
        db.session.remove()
        db.engine.dispose()
    refused = run_flask(database_url, "restore", str(dump), "--yes", path_prefix=server.bin_dir)
    assert refused.returncode != 0
    assert "pg_restore" in refused.stderr and "Traceback" not in refused.stderr
    with app.app_context():
        assert chain.head(db.session) == live_head, "restore touched the live database"
        db.session.remove()
        db.engine.dispose()

    name = f"carelog_restored_{uuid.uuid4().hex[:8]}"
    admin = server.url().replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    try:
        loaded = subprocess.run(
            [
                f"{server.bin_dir}/pg_restore",
                "--exit-on-error",
                "--dbname",
                server.url(name).replace("+psycopg", ""),
                str(dump),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert loaded.returncode == 0, loaded.stderr
        found = contents_at(server.url(name))
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    check_restored(found, written)
    report(capsys, "postgresql", written, found)


# ----- restore on SQLite: refusals, and what it keeps ---------------------------------------


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated demo home on SQLite for the restore tests (SQLite only: they test its files)."""
    path = tmp_path_factory.mktemp("backup-template") / "template.sqlite"
    build_template(f"sqlite:///{path}")
    return path


@pytest.fixture
def live(sqlite_template, tmp_path) -> str:
    """The URL of a live SQLite database holding the demo home and a few sessions."""
    path = tmp_path / "live" / "carelog.sqlite"
    path.parent.mkdir()
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    log_sessions(url, 3)
    return url


def log_sessions(url: str, how_many: int) -> None:
    """A few sessions through the use case, on a database given by URL."""
    application = create_app(app_config(url))
    resident = plain_residents(application, nurse_ward(application, "nurse"))[0].id
    who, given_by = actor(application, "nurse"), user_id(application, "nurse")
    with application.app_context():
        for _ in range(how_many):
            content = given_content(
                given_by, utcnow().replace(microsecond=0), repeat_confirmed=True
            )
            recording.record_session(
                who, resident, str(uuid.uuid4()), SessionContent.from_columns(content), content
            )
        db.session.remove()
        db.engine.dispose()


def path_of(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def dump(url: str) -> list[str]:
    """Everything the database holds, as SQL text: equal dumps mean an untouched database."""
    connection = sqlite3.connect(path_of(url))
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


def kept_copies(url: str) -> list[Path]:
    live_path = path_of(url)
    return sorted(live_path.parent.glob(live_path.name + ".before-restore-*"))


def take_backup(url: str, dest: Path) -> Path:
    result = run_flask(url, "backup", str(dest))
    assert result.returncode == 0, result.stderr
    return dest


def tamper(copy: Path, *statements: str) -> None:
    """Change a copy behind carelog's back, as someone with the file could."""
    connection = sqlite3.connect(copy)
    try:
        for statement in statements:
            connection.execute(statement)
        connection.commit()
    finally:
        connection.close()


def test_restore_puts_a_backup_back_and_keeps_the_database_it_replaced(live, tmp_path):
    """Sessions logged after the backup are gone from the live database but kept beside it."""
    copy = take_backup(live, tmp_path / "copy.sqlite")
    at_backup = contents_at(live)
    log_sessions(live, 2)
    later = contents_at(live)
    assert len(later.keys) == len(at_backup.keys) + 2

    result = run_flask(live, "restore", str(copy), "--yes")
    assert result.returncode == 0, result.stderr
    kept = kept_copies(live)
    assert len(kept) == 1
    assert str(kept[0]) in result.stdout
    assert contents_at(live).keys == at_backup.keys
    assert contents_at(live).verification == at_backup.verification
    assert contents_at(f"sqlite:///{kept[0]}").keys == later.keys
    assert integrity_check(path_of(live)) == "ok"


def test_restore_refuses_a_corrupted_copy_and_leaves_the_live_database(live, tmp_path):
    """One byte of a b-tree page header changed: refused; the live database is as it was."""
    copy = take_backup(live, tmp_path / "copy.sqlite")
    with sqlite3.connect(copy) as connection:
        root = connection.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'care_session_version'"
        ).fetchone()[0]
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
    connection.close()
    with open(copy, "r+b") as handle:
        handle.seek((root - 1) * page_size + 3)  # the page's cell count
        handle.write(b"\xff")
    before = dump(live)

    result = run_flask(live, "restore", str(copy), "--yes")
    assert result.returncode != 0
    assert dump(live) == before
    assert kept_copies(live) == []


def test_restore_explains_a_corrupted_copy_in_plain_words(live, tmp_path):
    """A damaged file gets one line saying why, not a Python traceback."""
    copy = take_backup(live, tmp_path / "copy.sqlite")
    with open(copy, "r+b") as handle:
        handle.write(b"Not SQLite at all")  # over the file header
    result = run_flask(live, "restore", str(copy), "--yes")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.stderr.startswith("Error:"), result.stderr[-2000:]


def test_restore_refuses_a_copy_with_one_audit_byte_changed(live, tmp_path):
    """A byte inside an entry's text passes SQLite's check; the hash chain catches it."""
    copy = take_backup(live, tmp_path / "copy.sqlite")
    data = copy.read_bytes()
    marker = b'"name":"Willow"'
    assert data.count(marker) == 1
    copy.write_bytes(data.replace(marker, b'"name":"Wallow"'))
    assert integrity_check(copy) == "ok"
    before = dump(live)

    result = run_flask(live, "restore", str(copy), "--yes")
    assert result.returncode != 0
    assert "does not verify at entry 2: content altered" in result.stderr
    assert dump(live) == before
    assert kept_copies(live) == []


def test_restore_refuses_a_copy_whose_trail_was_edited_with_the_trigger_dropped(live, tmp_path):
    """Drop the append-only trigger in a copy, edit an entry: refused, naming the entry."""
    copy = take_backup(live, tmp_path / "copy.sqlite")
    tamper(
        copy,
        "DROP TRIGGER audit_entry_no_update",
        "UPDATE audit_entry SET actor = 'someone else' WHERE id = 7",
    )
    before = dump(live)
    result = run_flask(live, "restore", str(copy), "--yes")
    assert result.returncode != 0
    assert "does not verify at entry 7: content altered" in result.stderr
    assert dump(live) == before
    assert kept_copies(live) == []


def test_a_copy_cut_short_is_caught_only_against_a_checkpoint(live, tmp_path):
    """Deleting the newest entries leaves a valid chain; a checkpoint printed earlier catches it."""
    copy = take_backup(live, tmp_path / "copy.sqlite")
    whole = contents_at(f"sqlite:///{copy}").verification
    tamper(
        copy,
        "DROP TRIGGER audit_entry_no_delete",
        f"DELETE FROM audit_entry WHERE id > {whole.count - 3}",
    )
    cut = contents_at(f"sqlite:///{copy}").verification
    assert cut.ok and cut.count == whole.count - 3
    assert not chain.verify_rows(rows_of(copy), expect=(whole.head_hash, whole.count)).ok


def rows_of(path: Path) -> list[dict]:
    connection = sqlite3.connect(path)
    connection.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in connection.execute("SELECT * FROM audit_entry ORDER BY id")]
    finally:
        connection.close()


def test_restore_replaces_a_damaged_live_database(live, tmp_path):
    """Restoring is what you do when the live trail is damaged: the good copy must go back."""
    copy = take_backup(live, tmp_path / "copy.sqlite")
    good = contents_at(f"sqlite:///{copy}")
    tamper(
        path_of(live),
        "DROP TRIGGER audit_entry_no_update",
        "UPDATE audit_entry SET reason = 'rewritten' WHERE id = 5",
    )
    assert not contents_at(live).verification.ok

    result = run_flask(live, "restore", str(copy), "--yes")
    assert result.returncode == 0, result.stderr
    assert contents_at(live).verification == good.verification
    kept = kept_copies(live)
    assert len(kept) == 1, "the damaged database should be kept aside as evidence"
    assert not contents_at(f"sqlite:///{kept[0]}").verification.ok


def test_backup_never_overwrites_an_earlier_copy(live, tmp_path):
    """A second backup to the same file name is refused; the first copy is unchanged."""
    copy = take_backup(live, tmp_path / "copy.sqlite")
    first = copy.read_bytes()
    log_sessions(live, 1)
    again = run_flask(live, "backup", str(copy))
    assert again.returncode != 0
    assert "already exists" in again.stderr
    assert copy.read_bytes() == first


def test_a_backup_is_a_checked_database_not_a_file_copy(live, tmp_path):
    """The copy opens alone (no -wal needed), passes the integrity check and verifies."""
    copy = take_backup(live, tmp_path / "copy.sqlite")
    assert not Path(f"{copy}-wal").exists() or Path(f"{copy}-wal").stat().st_size == 0
    assert integrity_check(copy) == "ok"
    assert contents_at(f"sqlite:///{copy}").keys == contents_at(live).keys
    with create_app(app_config(f"sqlite:///{copy}")).app_context():
        refused = pytest.raises(DBAPIError, match="append-only")
        with refused, write_transaction(db.session) as session:
            session.execute(sql("DELETE FROM audit_entry"))
        db.session.remove()
        db.engine.dispose()

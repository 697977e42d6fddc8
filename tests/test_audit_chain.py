"""The hash chain: pure parts by hand, then appends, triggers and `audit verify` on each backend."""

from __future__ import annotations

import gc
import hashlib
import itertools
import os
import sqlite3
import subprocess
import sys
import warnings
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
import sqlalchemy.exc
from sqlalchemy import text

from carelog.audit import chain, models
from carelog.audit.actor import Actor
from carelog.audit.chain import GENESIS_HASH
from carelog.audit.models import HASHED_FIELDS, AuditEntry
from carelog.database import write_transaction
from carelog.extensions import db
from tests.audit_appender import dialect_of, direct_connection, fetch_rows, remove_protections

ROOT = Path(__file__).resolve().parent.parent
ACTOR = Actor(user_id=None, name="chain-test", ip="192.0.2.7", user_agent="pytest")
A_HASH = hashlib.sha256(b"a").hexdigest()


def fields(**overrides) -> dict:
    """A complete set of hashed fields for one entry."""
    base = {
        "id": 1,
        "recorded_at": "2026-03-01T09:30:00.000001Z",
        "actor_id": 4,
        "actor": "nurse",
        "action": "session.log",
        "entity": "care_session",
        "entity_id": "17",
        "resident_id": 3,
        "old_values": None,
        "new_values": '{"outcome":"completed"}',
        "reason": None,
        "ip": "192.0.2.7",
        "user_agent": "Mozilla/5.0",
        "prev_hash": GENESIS_HASH,
    }
    return {**base, **overrides}


def hand_built_chain(length: int) -> list[dict]:
    """A correct chain built by hand, entry by entry."""
    rows, previous = [], GENESIS_HASH
    for number in range(1, length + 1):
        row = fields(id=number, entity_id=str(number), prev_hash=previous)
        row["hash"] = chain.entry_hash(row)
        rows.append(row)
        previous = row["hash"]
    return rows


def relinked(rows: list[dict]) -> list[dict]:
    """Renumber and re-hash rows into a chain that is consistent on its own."""
    out, previous = [], GENESIS_HASH
    for number, row in enumerate(rows, start=1):
        row = {**row, "id": number, "prev_hash": previous}
        row["hash"] = chain.entry_hash(row)
        out.append(row)
        previous = row["hash"]
    return out


# canonical_json


def test_canonical_json_sorts_keys_at_every_level_with_compact_separators():
    value = {"b": 1, "a": {"d": [3, {"z": 0, "y": None}], "c": True}}
    assert chain.canonical_json(value) == '{"a":{"c":true,"d":[3,{"y":null,"z":0}]},"b":1}'


def test_canonical_json_does_not_depend_on_insertion_order():
    items = [("name", "Rowan"), ("id", 1), ("active", False), ("note", None)]
    outputs = {chain.canonical_json(dict(order)) for order in itertools.permutations(items)}
    assert outputs == {'{"active":false,"id":1,"name":"Rowan","note":null}'}


def test_canonical_json_keeps_unicode_and_escapes_only_what_json_must():
    value = {"name": "Łucja Wiśniewski", "mood": "😊", "note": 'said "no"\n\tthen yes'}
    assert chain.canonical_json(value) == (
        '{"mood":"😊","name":"Łucja Wiśniewski","note":"said \\"no\\"\\n\\tthen yes"}'
    )


def test_canonical_json_of_nothing_and_of_values_json_cannot_hold():
    assert chain.canonical_json(None) is None
    assert chain.canonical_json({}) == "{}"
    when = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    value = {"on": date(2026, 3, 1), "at": when, "dose": Decimal("2.50")}
    assert chain.canonical_json(value) == (
        '{"at":"2026-03-01 09:30:00+00:00","dose":"2.50","on":"2026-03-01"}'
    )


# entry_hash


def test_entry_hash_is_sha256_of_the_sorted_compact_json_of_the_hashed_fields():
    row = fields(actor="Tomasz Wiśniewski", reason=None)
    # Written out by hand: a change to the canonical form would orphan every stored chain.
    canonical = (
        '{"action":"session.log","actor":"Tomasz Wiśniewski","actor_id":4,'
        '"entity":"care_session","entity_id":"17","id":1,"ip":"192.0.2.7",'
        '"new_values":"{\\"outcome\\":\\"completed\\"}","old_values":null,'
        f'"prev_hash":"{GENESIS_HASH}","reason":null,'
        '"recorded_at":"2026-03-01T09:30:00.000001Z","resident_id":3,'
        '"user_agent":"Mozilla/5.0"}'
    )
    assert chain.entry_hash(row) == hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _another(name: str, value):
    if value is None:
        return "" if name not in ("actor_id", "resident_id") else 0
    if isinstance(value, int):
        return value + 1
    return value[:-1] + ("0" if value[-1] != "0" else "1")


@pytest.mark.parametrize("name", HASHED_FIELDS)
def test_entry_hash_changes_when_any_hashed_field_changes(name):
    row = fields(old_values='{"outcome":"declined"}', reason="typo")
    changed = {**row, name: _another(name, row[name])}
    assert changed[name] != row[name]
    assert chain.entry_hash(changed) != chain.entry_hash(row)


@pytest.mark.parametrize("name", ["old_values", "reason", "actor_id", "resident_id"])
def test_entry_hash_tells_null_from_empty_or_zero(name):
    row = fields(**{name: None})
    assert chain.entry_hash({**row, name: _another(name, None)}) != chain.entry_hash(row)


def test_entry_hash_ignores_keys_outside_the_hashed_fields_and_needs_all_of_them():
    row = fields()
    assert chain.entry_hash({**row, "hash": "x" * 64, "extra": 1}) == chain.entry_hash(row)
    incomplete = dict(row)
    del incomplete["reason"]
    with pytest.raises(KeyError):
        chain.entry_hash(incomplete)


def test_timestamps_are_hashed_in_the_form_they_are_stored():
    moment = datetime(2026, 3, 1, 9, 30, 0, 0, tzinfo=UTC)
    stamp = moment.strftime(models.TIMESTAMP_FORMAT)
    assert stamp == "2026-03-01T09:30:00.000000Z"
    assert len(stamp) == AuditEntry.__table__.c.recorded_at.type.length
    entry = AuditEntry(recorded_at=stamp)
    assert entry.recorded_at_utc == moment


# verify_rows on chains built by hand


def test_verify_rows_accepts_a_correct_chain_and_reports_its_head():
    rows = hand_built_chain(5)
    result = chain.verify_rows(rows)
    assert (result.ok, result.count, result.head_hash) == (True, 5, rows[-1]["hash"])
    assert result.checkpoint == f"{rows[-1]['hash']}:5"
    assert result.first_bad_id is None


def test_verify_rows_accepts_an_empty_trail():
    result = chain.verify_rows([])
    assert (result.ok, result.count, result.head_hash) == (True, 0, GENESIS_HASH)


def _broken(rows: list[dict], change: str) -> list[dict]:
    rows = [dict(r) for r in rows]
    if change == "content":
        rows[2]["reason"] = "altered"
    elif change == "hash":
        rows[2]["hash"] = A_HASH
    elif change == "link":
        rows[2] = {**rows[2], "prev_hash": A_HASH}
        rows[2]["hash"] = chain.entry_hash(rows[2])
    elif change == "genesis":
        rows[0] = {**rows[0], "prev_hash": A_HASH}
        rows[0]["hash"] = chain.entry_hash(rows[0])
    elif change == "missing":
        del rows[2]
    elif change == "first-missing":
        del rows[0]
    elif change == "swapped":
        rows[2], rows[3] = rows[3], rows[2]
    elif change == "duplicate":
        rows.insert(3, dict(rows[2]))
    return rows


@pytest.mark.parametrize(
    ("change", "first_bad", "verified", "problem"),
    [
        ("content", 3, 2, "content altered"),
        ("hash", 3, 2, "content altered"),
        ("link", 3, 2, "link to the previous entry broken"),
        ("genesis", 1, 0, "link to the previous entry broken"),
        ("missing", 4, 2, "entry missing or out of order"),
        ("first-missing", 2, 0, "entry missing or out of order"),
        ("swapped", 4, 2, "entry missing or out of order"),
        ("duplicate", 3, 3, "entry missing or out of order"),
    ],
)
def test_verify_rows_names_the_first_bad_entry(change, first_bad, verified, problem):
    rows = hand_built_chain(6)
    result = chain.verify_rows(_broken(rows, change))
    assert (result.ok, result.first_bad_id, result.problem) == (False, first_bad, problem)
    assert result.count == verified  # the entries before the break, which did verify
    assert result.head_hash == (rows[verified - 1]["hash"] if verified else GENESIS_HASH)


def test_verify_rows_checkpoints_pass_at_the_head_and_at_any_earlier_point():
    rows = hand_built_chain(6)
    for count in range(7):
        digest = rows[count - 1]["hash"] if count else GENESIS_HASH
        assert chain.verify_rows(rows, (digest, count)).ok, count


def test_verify_rows_checkpoint_with_a_wrong_hash_fails_at_that_entry():
    rows = hand_built_chain(6)
    result = chain.verify_rows(rows, (A_HASH, 4))
    assert (result.ok, result.first_bad_id, result.count) == (False, 4, 4)
    assert result.problem == "differs from the checkpoint"


def test_verify_rows_checkpoint_with_a_wrong_hash_fails_even_at_count_zero():
    """GENESIS:0 is the only checkpoint of an empty trail; any other hash is wrong."""
    assert chain.verify_rows(hand_built_chain(3), (GENESIS_HASH, 0)).ok
    assert not chain.verify_rows(hand_built_chain(3), (A_HASH, 0)).ok
    assert not chain.verify_rows([], (A_HASH, 0)).ok


def test_verify_rows_checkpoint_longer_than_the_trail_means_entries_were_removed():
    rows = hand_built_chain(6)
    result = chain.verify_rows(rows[:4], (rows[-1]["hash"], 6))
    assert (result.ok, result.count, result.first_bad_id) == (False, 4, None)
    assert result.problem == "shorter than the checkpoint: entries removed"


def test_verify_rows_a_consistent_rewrite_passes_alone_and_fails_the_checkpoint():
    rows = hand_built_chain(6)
    rewritten = relinked([{**r, "reason": "rewritten"} if r["id"] == 2 else r for r in rows])
    assert chain.verify_rows(rewritten).ok
    result = chain.verify_rows(rewritten, (rows[-1]["hash"], 6))
    assert (result.ok, result.first_bad_id) == (False, 6)


# parse_checkpoint


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (f"{A_HASH}:54", (A_HASH, 54)),
        (f"{A_HASH.upper()}:54", (A_HASH, 54)),
        (f"  {A_HASH}:54\n", (A_HASH, 54)),
        (f"{GENESIS_HASH}:0", (GENESIS_HASH, 0)),
        (f"{A_HASH}:007", (A_HASH, 7)),
    ],
)
def test_parse_checkpoint_reads_hash_and_count(value, expected):
    assert chain.parse_checkpoint(value) == expected


def test_parse_checkpoint_reads_what_verify_prints():
    printed = chain.verify_rows(hand_built_chain(4)).checkpoint
    assert chain.parse_checkpoint(printed) == (hand_built_chain(4)[-1]["hash"], 4)


@pytest.mark.parametrize(
    "value",
    [
        "",
        ":",
        A_HASH,
        f"{A_HASH}:",
        ":54",
        f"{A_HASH[:-1]}:54",
        f"{A_HASH}0:54",
        f"{'g' * 64}:54",
        f"0x{A_HASH[2:]}:54",
        f"{A_HASH}:-1",
        f"{A_HASH}:+1",
        f"{A_HASH}:1.5",
        f"{A_HASH}:1e3",
        f"{A_HASH}: 54",
        f"{A_HASH} :54",
        f"{A_HASH}:54:1",
        f"{A_HASH}:²",
        f"54:{A_HASH}",
    ],
)
def test_parse_checkpoint_refuses_malformed_values(value):
    with pytest.raises(ValueError):
        chain.parse_checkpoint(value)


# On the database


def stored_rows(app) -> list[dict]:
    """Every entry as the database holds it, read back without the ORM's identity map."""
    with app.app_context():
        db.session.remove()
        columns = ", ".join((*HASHED_FIELDS, "hash"))
        return [
            dict(row)
            for row in db.session.execute(
                text(f"SELECT {columns} FROM audit_entry ORDER BY id")
            ).mappings()
        ]


def test_record_appends_entries_numbered_and_linked_to_the_previous_hash(app):
    """One per transaction or several in one, each links to the last; stored = hashed."""
    seeded = stored_rows(app)
    long_agent = "Mozilla/5.0 " + "x" * 400
    visitor = Actor(user_id=4, name="nurse", ip="2001:db8::1", user_agent=long_agent)
    started = datetime.now(UTC)
    with app.app_context():
        returned = []
        for number in range(3):
            with write_transaction(db.session) as session:
                entry = chain.record(session, ACTOR, "test.one", "test", number)
                returned.append((entry.id, entry.prev_hash, entry.hash))
        with write_transaction(db.session) as session:
            for number in range(2):
                entry = chain.record(
                    session,
                    visitor,
                    "test.two",
                    "test",
                    number,
                    resident_id=1,
                    old={"name": "Zoë", "on": date(2026, 3, 1)},
                    new={"name": "Zoë Fairbanks", "tags": ["ø", None]},
                    reason="Spelling, agreed with the family",
                )
                returned.append((entry.id, entry.prev_hash, entry.hash))
    rows = stored_rows(app)

    assert [r["id"] for r in rows] == list(range(1, len(seeded) + 6))
    assert rows[: len(seeded)] == seeded
    previous = GENESIS_HASH
    for row in rows:
        assert row["prev_hash"] == previous
        assert row["hash"] == chain.entry_hash(row)
        previous = row["hash"]
    assert returned == [(r["id"], r["prev_hash"], r["hash"]) for r in rows[len(seeded) :]]

    last = rows[-1]
    assert last["user_agent"] == long_agent[:300]
    assert last["old_values"] == '{"name":"Zoë","on":"2026-03-01"}'
    assert last["new_values"] == '{"name":"Zoë Fairbanks","tags":["ø",null]}'
    recorded = datetime.strptime(last["recorded_at"], models.TIMESTAMP_FORMAT).replace(tzinfo=UTC)
    assert started - timedelta(seconds=1) <= recorded <= datetime.now(UTC)
    with app.app_context():
        result = chain.verify(db.session)
    assert (result.ok, result.count, result.head_hash) == (True, len(rows), last["hash"])


def test_a_rolled_back_transaction_takes_its_entry_with_it(app):
    """The entry and the write it records stand or fall together; no gap is left."""
    before = stored_rows(app)
    with app.app_context():
        with pytest.raises(LookupError), write_transaction(db.session) as session:
            chain.record(session, ACTOR, "test.lost", "test", 1)
            raise LookupError("the clinical write failed")
        with write_transaction(db.session) as session:
            kept = chain.record(session, ACTOR, "test.kept", "test", 2)
            kept_id = kept.id
    rows = stored_rows(app)
    assert rows[:-1] == before
    assert (rows[-1]["id"], rows[-1]["action"]) == (len(before) + 1, "test.kept")
    assert kept_id == len(before) + 1


def test_record_outside_write_transaction(app, backend):
    """SQLite refuses (no write lock yet); PostgreSQL takes its advisory lock in any transaction."""
    before = stored_rows(app)
    with app.app_context():
        if backend == "sqlite":
            with pytest.raises(RuntimeError, match="inside write_transaction"):
                chain.record(db.session, ACTOR, "test.outside", "test", 1)
            db.session.rollback()
            assert stored_rows(app) == before
            return
        entry = chain.record(db.session, ACTOR, "test.outside", "test", 1)
        held = db.session.scalar(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND pid = pg_backend_pid() AND objid = :key"
            ),
            {"key": chain.POSTGRES_CHAIN_LOCK},
        )
        assert held == 1
        assert entry.id == len(before) + 1
        db.session.commit()
        assert chain.verify(db.session).ok


def test_an_append_holds_the_chain_lock_until_it_commits(app, database_url, backend):
    """While one appender is inside its transaction, nobody else can start an append."""
    with app.app_context():
        with write_transaction(db.session) as session:
            if backend == "sqlite":  # BEGIN IMMEDIATE: the write lock comes before any read
                assert not _other_appender_can_start(database_url, backend)
            chain.record(session, ACTOR, "test.lock", "test", 1)
            assert not _other_appender_can_start(database_url, backend)
        assert _other_appender_can_start(database_url, backend)


def _other_appender_can_start(url: str, backend: str) -> bool:
    """Try, without waiting, to take what an appender needs: SQLite's write lock or the PG lock."""
    if backend == "sqlite":
        with direct_connection(url) as connection:
            connection.execute("PRAGMA busy_timeout=0")
            try:
                connection.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as error:
                assert "locked" in str(error)
                return False
            connection.rollback()
            return True
    with direct_connection(url) as connection:
        return connection.execute(
            "SELECT pg_try_advisory_xact_lock(%s)", (chain.POSTGRES_CHAIN_LOCK,)
        ).fetchone()[0]


def _statements(backend: str) -> list[str]:
    statements = [
        "UPDATE audit_entry SET reason = 'tidied' WHERE id = 2",
        "UPDATE audit_entry SET id = id + 1000",
        "DELETE FROM audit_entry WHERE id = 2",
        "DELETE FROM audit_entry",
    ]
    return statements + (["TRUNCATE audit_entry"] if backend == "postgresql" else [])


def test_the_database_refuses_to_change_or_delete_entries(app, database_url, backend):
    """Raw SQL on a connection of its own: the database's triggers refuse, whoever asks."""
    db_error = sqlite3.IntegrityError if backend == "sqlite" else psycopg.errors.RaiseException
    before = stored_rows(app)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    for statement in _statements(backend):
        with (
            pytest.raises(db_error, match="audit_entry is append-only"),
            direct_connection(database_url) as connection,
        ):
            connection.execute(statement)
    assert stored_rows(app) == before

    # Control: without the triggers the same statements go through, so it was the triggers.
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    with direct_connection(database_url) as connection:
        remove_protections(connection, dialect_of(database_url))
        connection.execute(_statements(backend)[0])
        assert fetch_rows(connection) != before


def test_the_database_refuses_orm_changes_to_entries(app):
    """Changing or deleting an entry through carelog's own session fails in the database."""
    before = stored_rows(app)
    with app.app_context():
        for change in ("update", "delete"):
            with (
                pytest.raises(sqlalchemy.exc.DatabaseError, match="append-only"),
                write_transaction(db.session) as session,
            ):
                entry = session.get(AuditEntry, 2)
                if change == "update":
                    entry.reason = "tidied"
                else:
                    session.delete(entry)
                session.flush()
    assert stored_rows(app) == before


# `flask --app carelog audit verify`


def cli(app, *args: str):
    """Run the audit verify command through Flask's test runner."""
    with app.app_context():  # the `flask` command pushes one; the test runner does not
        return app.test_cli_runner().invoke(args=["audit", "verify", *args])


def test_audit_verify_prints_the_count_and_head_of_the_seeded_trail(app):
    rows = stored_rows(app)
    result = cli(app)
    assert result.exit_code == 0, result.output
    assert result.output == f"OK: {len(rows)} entries, head {rows[-1]['hash']}\n"


def test_audit_verify_expect_passes_with_the_current_head_and_an_earlier_one(app):
    rows = stored_rows(app)
    for row in (rows[-1], rows[9], rows[0]):
        result = cli(app, "--expect", f"{row['hash']}:{row['id']}")
        assert result.exit_code == 0, result.output
        assert result.output.startswith(f"OK: {len(rows)} entries")


def test_audit_verify_expect_fails_for_a_wrong_hash(app):
    rows = stored_rows(app)
    wrong = rows[-1]["hash"][:-1] + ("0" if rows[-1]["hash"][-1] != "0" else "1")
    result = cli(app, "--expect", f"{wrong}:{len(rows)}")
    assert result.exit_code == 1
    assert f"FAILED at entry {len(rows)}: differs from the checkpoint" in result.output


def test_audit_verify_expect_fails_for_a_count_beyond_the_trail(app):
    rows = stored_rows(app)
    result = cli(app, "--expect", f"{rows[-1]['hash']}:{len(rows) + 1}")
    assert result.exit_code == 1
    assert "FAILED: shorter than the checkpoint: entries removed" in result.output
    assert f"{len(rows)} entries verified before it" in result.output


def test_audit_verify_refuses_a_malformed_checkpoint(app):
    result = cli(app, "--expect", "not-a-checkpoint")
    assert result.exit_code == 2
    assert "Invalid value for --expect: the hash must be 64 hexadecimal" in result.output


def test_audit_verify_releases_its_cursor_when_it_stops_early(app, database_url):
    """A failed verification must not leave a server-side cursor open on the connection."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    with direct_connection(database_url) as connection:
        remove_protections(connection, dialect_of(database_url))
        connection.execute("UPDATE audit_entry SET reason = 'tidied' WHERE id = 3")
    with warnings.catch_warnings(record=True) as caught, app.app_context():
        warnings.simplefilter("always")
        result = chain.verify(db.session)
        gc.collect()
    assert (result.ok, result.first_bad_id) == (False, 3)
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_the_installed_flask_command_verifies_the_trail(app, database_url):
    """`flask --app carelog audit verify` as an operator runs it, in a process of its own."""
    rows = stored_rows(app)
    environment = {
        **os.environ,
        "CARELOG_DATABASE_URL": database_url,
        "CARELOG_SECRET_KEY": "cli-test-secret-that-is-long-enough-0123",
    }
    flask = Path(sys.executable).with_name("flask")
    command = [str(flask), "--app", "carelog", "audit", "verify", "--expect"]
    passed = subprocess.run(
        [*command, f"{rows[-1]['hash']}:{len(rows)}"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert passed.returncode == 0, passed.stderr
    assert passed.stdout == f"OK: {len(rows)} entries, head {rows[-1]['hash']}\n"
    failed = subprocess.run(
        [*command, f"{rows[-1]['hash']}:{len(rows) + 5}"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert failed.returncode == 1
    assert "shorter than the checkpoint" in failed.stderr
